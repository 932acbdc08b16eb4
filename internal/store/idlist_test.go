package store

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"testing"
)

// sameAsJSON fails t unless parseIDList(s) gives what json.Unmarshal into
// a []int64 gives: the same ids, or an error from both.
func sameAsJSON(t *testing.T, s string) {
	t.Helper()
	got, gotErr := parseIDList(s)
	var want []int64
	wantErr := json.Unmarshal([]byte(s), &want)
	if (gotErr != nil) != (wantErr != nil) {
		t.Fatalf("parseIDList(%q): error %v, json.Unmarshal: error %v", s, gotErr, wantErr)
	}
	if gotErr == nil && (!slices.Equal(got, want) || (got == nil) != (want == nil)) {
		t.Fatalf("parseIDList(%q) = %#v, json.Unmarshal gives %#v", s, got, want)
	}
}

// TestParseIDList: article_ids read without encoding/json come back as
// encoding/json reads them, for what idList writes and for what it never
// writes (another program may have written the column).
func TestParseIDList(t *testing.T) {
	for _, ids := range [][]int64{nil, {}, {1}, {0}, {-7}, {1, 2, 3}, {math.MaxInt64, math.MinInt64, 0}} {
		s := idList(ids)
		got, err := parseIDList(s)
		if err != nil || !slices.Equal(got, ids) || got == nil {
			t.Errorf("parseIDList(idList(%v) = %q) = %v, %v", ids, s, got, err)
		}
		sameAsJSON(t, s)
	}
	for _, s := range []string{
		"", " ", "[", "]", "[]", " [ ] ", "[ ]x", "null", "[null]", "[1,]", "[,1]", "[1 2]", "[1,,2]",
		"[01]", "[-0]", "[-01]", "[-]", "[1.5]", "[1e3]", "[\"1\"]", "[9223372036854775808]",
		"[-9223372036854775809]", "[1]]", "[[1]]", "{}", "\t[1,\n2 ,\r3]\n", "[1,2", "[+1]", "[ 0 ]",
	} {
		sameAsJSON(t, s)
	}
	r := rand.New(rand.NewPCG(1, 2))
	const alphabet = "[],-0123456789 .e\"n"
	for range 20000 {
		b := make([]byte, r.IntN(12))
		for i := range b {
			b[i] = alphabet[r.IntN(len(alphabet))]
		}
		sameAsJSON(t, string(b))
		ids := make([]int64, r.IntN(20))
		for i := range ids {
			ids[i] = r.Int64N(1<<40) - 1<<20
		}
		sameAsJSON(t, idList(ids))
		sameAsJSON(t, "["+strconv.FormatInt(r.Int64(), 10)+"]")
	}
}

// FuzzParseIDList: for any text, parseIDList agrees with encoding/json.
func FuzzParseIDList(f *testing.F) {
	for _, s := range []string{"[]", "[1,2,3]", " [ 4 , 5 ] ", "[01]", "[-0]", "null", "[1.0]", "[9223372036854775807]"} {
		f.Add(s)
	}
	f.Fuzz(sameAsJSON)
}
