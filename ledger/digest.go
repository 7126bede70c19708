package ledger

import (
	"encoding/binary"
	"math/bits"
	"strconv"

	"refundledger/proto"
)

// digest is a 64-bit hash written field by field: it identifies a decoded
// message's content without marshalling it. Strings are length-prefixed so
// that no two different field sequences feed it the same input, and are mixed
// eight bytes at a time (a multiply-rotate step in the manner of MurmurHash).
// 64 bits are ample to tell apart the handful of distinct snapshots one refund
// (or order) ever has; a digest is only compared within one key. The function
// is fixed: digests stored in records stay valid across processes.
type digest uint64

const (
	digestSeed digest = 0x9e3779b97f4a7c15
	digestK1          = 0x87c37b91114253d5
	digestK2          = 0x4cf5ad432745937f
)

func newDigest() digest { return digestSeed }

func (h digest) int(n int64) digest {
	k := uint64(n) * digestK1
	k = bits.RotateLeft64(k, 31) * digestK2
	x := uint64(h) ^ k
	return digest(bits.RotateLeft64(x, 27)*5 + 0x52dce729)
}

func (h digest) str(s string) digest {
	h = h.int(int64(len(s)))
	for len(s) >= 8 {
		h = h.int(int64(binary.LittleEndian.Uint64([]byte(s[:8]))))
		s = s[8:]
	}
	var tail uint64
	for i := 0; i < len(s); i++ {
		tail |= uint64(s[i]) << (8 * i)
	}
	return h.int(int64(tail))
}

func (h digest) bool(b bool) digest {
	if b {
		return h.int(1)
	}
	return h.int(0)
}

// sum finalises the hash (avalanche, as MurmurHash3's fmix64).
func (h digest) sum() uint64 {
	x := uint64(h)
	x ^= x >> 33
	x *= 0xff51afd7ed558ccd
	x ^= x >> 33
	x *= 0xc4ceb9fe1a85ec53
	x ^= x >> 33
	return x
}

// hex renders the digest as 16 lower-case hex digits (fixed width, so string
// order is numeric order).
func (h digest) hex() string {
	const pad = "0000000000000000"
	s := strconv.FormatUint(h.sum(), 16)
	return pad[len(s):] + s
}

// snapshotDigest identifies a refund snapshot's decoded content: every field
// of proto.RefundSnapshot and its operations, in list order.
func snapshotDigest(s *proto.RefundSnapshot) string {
	h := newDigest().str(s.RefundID).str(s.ID).str(s.OrderID).str(s.Status).
		int(s.ApplyPayment).int(s.ApplyCarriage).int(s.RefundPayment).int(s.RefundCarriage).
		int(s.DisputeType).int(s.DisputeRequest).int(s.GoodsStatus).bool(s.OnlyRefund).bool(s.RefundGoods).
		int(s.CreatedAt).int(s.ModifiedAt).int(s.CompletedAt).int(int64(len(s.Operations)))
	for i := range s.Operations {
		o := &s.Operations[i]
		h = h.str(o.ID).int(o.At).int(o.Type).str(o.Remark).str(o.Description).int(o.Role).int(o.MsgType).str(o.Before).str(o.After)
	}
	return h.hex()
}

// orderDigest identifies an order message: its type, its Xportcn message id
// (stable across retries, so that two genuinely different messages with equal
// content stay distinct) and its decoded content.
func orderDigest(typ, messageID string, m *proto.OrderMessage) string {
	return newDigest().str(typ).str(messageID).str(m.OrderID).str(m.OrderNo).str(m.Form).str(m.Status).
		int(m.PayStatus).bool(m.HasTotals).int(m.TotalAmount).int(m.ShippingFee).int(m.ProductAmount).
		int(m.Discount).int(m.RefundAmount).str(m.CloseReason).int(m.CreatedAt).int(m.PaidAt).hex()
}
