package projections

import (
	"bytes"
	"encoding/binary"
	"testing"

	"pgregory.net/rapid"

	"refundledger/ledger"
	"refundledger/proto"
)

// TestRefundIndexKeys: the index entries of a refund are the documented
// keys, whatever its ids hold (escaped), and each is a slice of its own
// (appending to one does not overwrite the next, though they share memory).
func TestRefundIndexKeys(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		st := ledger.Refund{
			Platform:  proto.Platform(rapid.SampledFrom([]string{"1688", "taobao", "a/b c"}).Draw(t, "platform")),
			RefundID:  rapid.String().Draw(t, "refund"),
			OrderID:   rapid.SampledFrom([]string{"", "4013", "o/1?x"}).Draw(t, "order"),
			Status:    rapid.String().Draw(t, "status"),
			Phase:     rapid.SampledFrom([]string{ledger.PhasePendingSeller, ledger.PhaseSucceeded, ""}).Draw(t, "phase"),
			UpdatedAt: ledger.Time(rapid.Int64().Draw(t, "updated")),
		}
		tail := "/" + esc(string(st.Platform)) + "/" + esc(st.RefundID)
		want := [][]byte{
			[]byte(ixStatus + esc(st.Status) + tail),
			[]byte(ixPhase + esc(st.Phase) + tail),
			append(binary.BigEndian.AppendUint64([]byte(ixUpdated), uint64(st.UpdatedAt)), tail...),
		}
		if st.OrderID != "" {
			want = append(want, []byte(ixOrder+esc(st.OrderID)+tail))
		}
		got := refundIndexKeys(st)
		if len(got) != len(want) {
			t.Fatalf("%d keys, want %d", len(got), len(want))
		}
		for i := range want {
			if !bytes.Equal(got[i], want[i]) {
				t.Fatalf("key %d = %q, want %q", i, got[i], want[i])
			}
			if p, id, ok := refundOfIndexKey(got[i]); !ok || p != st.Platform || id != st.RefundID {
				t.Fatalf("key %q reads back as %q/%q (%v)", got[i], p, id, ok)
			}
		}
		for i := range got {
			_ = append(got[i], '!')
		}
		for i := range want {
			if !bytes.Equal(got[i], want[i]) {
				t.Fatalf("appending to a key changed key %d to %q", i, got[i])
			}
		}
	})
}
