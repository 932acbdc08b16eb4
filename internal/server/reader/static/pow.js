// herald's proof of work for subscribe forms (http.subscribe_pow). It finds
// a nonce such that SHA-256(challenge + ":" + nonce) starts with the asked
// number of zero bits, fills the form's "pow" and "nonce" fields and sends
// the form. No third party is involved; a publisher's own form can include
// this script from herald (<script src="https://HERALD/subscribe/pow.js"
// defer>) and mark the form with data-herald-pow: the script then fetches a
// challenge from the same herald.
(function () {
  "use strict";
  var K = [
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2
  ];
  var W = new Int32Array(64);

  var pad = new Uint8Array(256);

  // sha256 returns the digest of bytes (a Uint8Array) as 8 words.
  function sha256(bytes) {
    var n = bytes.length, blocks = ((n + 8) >> 6) + 1, i, j;
    var m = blocks * 64 <= pad.length ? pad : new Uint8Array(blocks * 64);
    m.fill(0, 0, blocks * 64);
    m.set(bytes);
    m[n] = 0x80;
    var bits = n * 8, last = blocks * 64;
    m[last - 4] = bits >>> 24; m[last - 3] = bits >>> 16; m[last - 2] = bits >>> 8; m[last - 1] = bits;
    var h0 = 0x6a09e667, h1 = 0xbb67ae85, h2 = 0x3c6ef372, h3 = 0xa54ff53a,
      h4 = 0x510e527f, h5 = 0x9b05688c, h6 = 0x1f83d9ab, h7 = 0x5be0cd19;
    for (var b = 0; b < last; b += 64) {
      for (i = 0; i < 16; i++) {
        j = b + i * 4;
        W[i] = (m[j] << 24) | (m[j + 1] << 16) | (m[j + 2] << 8) | m[j + 3];
      }
      for (i = 16; i < 64; i++) {
        var x = W[i - 15], y = W[i - 2];
        var s0 = ((x >>> 7) | (x << 25)) ^ ((x >>> 18) | (x << 14)) ^ (x >>> 3);
        var s1 = ((y >>> 17) | (y << 15)) ^ ((y >>> 19) | (y << 13)) ^ (y >>> 10);
        W[i] = (W[i - 16] + s0 + W[i - 7] + s1) | 0;
      }
      var a = h0, c = h2, d = h3, e = h4, f = h5, g = h6, h = h7, bb = h1;
      for (i = 0; i < 64; i++) {
        var S1 = ((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7));
        var t1 = (h + S1 + ((e & f) ^ (~e & g)) + K[i] + W[i]) | 0;
        var S0 = ((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10));
        var t2 = (S0 + ((a & bb) ^ (a & c) ^ (bb & c))) | 0;
        h = g; g = f; f = e; e = (d + t1) | 0; d = c; c = bb; bb = a; a = (t1 + t2) | 0;
      }
      h0 = (h0 + a) | 0; h1 = (h1 + bb) | 0; h2 = (h2 + c) | 0; h3 = (h3 + d) | 0;
      h4 = (h4 + e) | 0; h5 = (h5 + f) | 0; h6 = (h6 + g) | 0; h7 = (h7 + h) | 0;
    }
    return [h0, h1, h2, h3, h4, h5, h6, h7];
  }

  // zeros reports whether the digest starts with the given number of zero bits.
  function zeros(words, bits) {
    for (var i = 0; bits > 0; i++, bits -= 32) {
      var mask = bits >= 32 ? 0xffffffff : ~(0xffffffff >>> bits);
      if ((words[i] & mask) !== 0) return false;
    }
    return true;
  }

  function utf8(s) { return new TextEncoder().encode(s); }

  // solve returns the first nonce (a decimal string) that meets bits.
  function solve(challenge, bits) {
    var prefix = utf8(challenge + ":"), buf = new Uint8Array(prefix.length + 20), k = prefix.length;
    buf.set(prefix);
    for (var n = 0; ; n++) {
      var d = String(n);
      for (var i = 0; i < d.length; i++) buf[k + i] = d.charCodeAt(i);
      if (zeros(sha256(buf.subarray(0, k + d.length)), bits)) return d;
    }
  }

  globalThis.heraldPow = { solve: solve, sha256: sha256 };
  if (typeof document === "undefined") return;

  function wire(form) {
    form.addEventListener("submit", function (ev) {
      var pow = form.querySelector("input[name=pow]"), nonce = form.querySelector("input[name=nonce]");
      if (!pow || !nonce || nonce.value) return;
      ev.preventDefault();
      var button = form.querySelector("button[type=submit]");
      if (button) button.disabled = true;
      function go(challenge, bits) {
        pow.value = challenge;
        nonce.value = solve(challenge, bits);
        form.submit();
      }
      if (pow.value) {
        // Let the page repaint (the disabled button) before the work.
        setTimeout(function () { go(pow.value, Number(form.getAttribute("data-herald-pow")) || 0); }, 0);
        return;
      }
      fetch(new URL("/subscribe/challenge", form.action).href)
        .then(function (r) { return r.json(); })
        .then(function (j) { go(j.challenge, j.bits); });
    });
  }
  var forms = document.querySelectorAll("form[data-herald-pow]");
  for (var i = 0; i < forms.length; i++) wire(forms[i]);
})();
