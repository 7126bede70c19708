package proto

import (
	"crypto/sha256"
	"encoding/hex"
)

// MaxSubjectToken is the longest token SubjectToken returns, in bytes.
const MaxSubjectToken = 64

// SubjectToken makes s one NATS subject token: bytes other than
// [A-Za-z0-9_-] become '_', "" becomes "_", and a value longer than 64 bytes
// is cut and given a hash suffix, so the token is never empty, never a
// wildcard and never splits a subject. The ingester files callbacks and the
// relay publishes facts with it.
func SubjectToken(s string) string {
	if s == "" {
		return "_"
	}
	if len(s) > MaxSubjectToken {
		sum := sha256.Sum256([]byte(s))
		s = s[:MaxSubjectToken-17] + "-" + hex.EncodeToString(sum[:8])
	}
	clean := true
	for i := 0; i < len(s); i++ {
		if !tokenByte(s[i]) {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	b := []byte(s)
	for i, c := range b {
		if !tokenByte(c) {
			b[i] = '_'
		}
	}
	return string(b)
}

func tokenByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-'
}
