package projections

import (
	"strconv"
	"strings"
	"testing"
)

func TestStreamSeq(t *testing.T) {
	for _, c := range []struct {
		reply string
		want  uint64 // 0: an error
	}{
		{"$JS.ACK.S.C.1.42.7.1700000000000000000.3", 42},                        // v1
		{"$JS.ACK._.HASH.S.C.1.42.7.1700000000000000000.3.tok", 42},             // v2
		{"$JS.ACK._.HASH.S.C.1.42.7.1700000000000000000.3", 42},                 // v2 without the last token
		{"$JS.ACK._.HASH.S.C.1.18446744073709551615.7.1.0.tok.more", 1<<64 - 1}, // beyond 2^53
		{"$JS.ACK.S.C.1.x.7.1.3", 0},
		{"$JS.ACK.S.C.1.0.7.1.3", 0},
		{"$JS.ACK.S.C.1.-4.7.1.3", 0},
		{"$JS.ACK.S.C.1.42.7.1", 0},            // 8 tokens
		{"$JS.ACK.D.H.S.C.1.42.7.1", 0},        // 10 tokens
		{"$JS.NAK.S.C.1.42.7.1700000000.3", 0}, // not an ack subject
		{"_INBOX.abc", 0},
		{"", 0},
	} {
		got, err := streamSeq(c.reply)
		if c.want == 0 {
			if err == nil {
				t.Errorf("streamSeq(%q) = %d, want an error", c.reply, got)
			}
			continue
		}
		if err != nil || got != c.want {
			t.Errorf("streamSeq(%q) = %d, %v; want %d", c.reply, got, err, c.want)
		}
	}
}

// FuzzStreamSeq: whatever the subject, streamSeq returns a positive number
// or an error, and the number is the token jetstream reads.
func FuzzStreamSeq(f *testing.F) {
	f.Add("$JS.ACK.S.C.1.42.7.1700000000000000000.3")
	f.Add("$JS.ACK._.HASH.S.C.1.42.7.1700000000000000000.3.tok")
	f.Add("$JS.ACK....")
	f.Add("$JS.ACK.S.C.2.01.2.3.4") // a leading zero
	f.Fuzz(func(t *testing.T, reply string) {
		seq, err := streamSeq(reply)
		if err != nil {
			return
		}
		if seq == 0 {
			t.Fatalf("streamSeq(%q) = 0 without an error", reply)
		}
		// The sequence is the 6th token of the 9-token form, the 8th of the
		// longer one.
		tokens := strings.Split(reply, ".")
		at := 5
		if len(tokens) > 9 {
			at = 7
		}
		if want, err := strconv.ParseUint(tokens[at], 10, 64); err != nil || seq != want {
			t.Fatalf("streamSeq(%q) = %d, token %d is %q", reply, seq, at, tokens[at])
		}
	})
}
