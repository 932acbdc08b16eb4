package editor

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"

	"github.com/heraldnews/herald/internal/model"
)

// Password limits. The upper bound keeps hashing a request's worth of
// bytes cheap.
const (
	MinPassword = 10
	MaxPassword = 256
)

// ErrWeakPassword: a new password is too short, too long or not text.
var ErrWeakPassword = &model.Error{Code: model.EINVALID, Message: "the password must be 10 to 256 characters"}

// params are argon2id's cost: OWASP's recommended minimum (19 MiB,
// two passes, one lane) takes tens of milliseconds.
type params struct {
	memory  uint32 // KiB
	time    uint32
	threads uint8
	keyLen  uint32
}

var defaultParams = params{memory: 19 * 1024, time: 2, threads: 1, keyLen: 32}

// CheckPassword says whether pw may become a password.
func CheckPassword(pw string) error {
	n := utf8.RuneCountInString(pw)
	if !utf8.ValidString(pw) || n < MinPassword || len(pw) > MaxPassword {
		return ErrWeakPassword
	}
	return nil
}

// HashPassword returns pw's argon2id hash in PHC form:
// $argon2id$v=19$m=19456,t=2,p=1$<salt>$<key>.
func HashPassword(pw string) (string, error) {
	salt := make([]byte, 16)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("editor: password salt: %w", err)
	}
	p := defaultParams
	key := argon2.IDKey([]byte(pw), salt, p.time, p.memory, p.threads, p.keyLen)
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, p.memory, p.time, p.threads,
		b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

var errBadHash = errors.New("editor: not an argon2id hash")

// VerifyPassword reports whether pw matches hash, comparing in constant
// time with the cost the hash was made with.
func VerifyPassword(hash, pw string) (bool, error) {
	parts := strings.Split(hash, "$")
	if len(parts) != 6 || parts[1] != "argon2id" || parts[2] != fmt.Sprintf("v=%d", argon2.Version) {
		return false, errBadHash
	}
	var p params
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &p.memory, &p.time, &p.threads); err != nil {
		return false, errBadHash
	}
	if p.memory > 1<<20 || p.time > 16 || p.threads == 0 {
		return false, errBadHash // refuse a cost that would hang a login
	}
	b64 := base64.RawStdEncoding
	salt, err := b64.DecodeString(parts[4])
	if err != nil {
		return false, errBadHash
	}
	want, err := b64.DecodeString(parts[5])
	if err != nil || len(want) == 0 || len(want) > 128 {
		return false, errBadHash
	}
	got := argon2.IDKey([]byte(pw), salt, p.time, p.memory, p.threads, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1, nil
}
