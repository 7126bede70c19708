package projections

import (
	"encoding/binary"

	"refundledger/proto"
)

// Key layout. Every key starts with a one-word prefix and a slash; numbers
// are big-endian so that byte order is numeric order.
//
//	meta/checkpoint                     last stream sequence folded (uint64)
//	meta/foldversion                    ledger.FoldVersion that built the data
//	meta/layout                         Layout that wrote it (missing: layout 1)
//	refund/<platform>/<refundId>        ledger.RefundRecord (JSON)
//	order/<platform>/<orderId>          ledger.OrderRecord (JSON)
//	delivery/<platform>/<refundId>/<seq> Delivery (JSON): one per callback
//	quarantine/<seq>                    Quarantined (JSON)
//	ix/...                              secondary indexes (index.go)
//	outbox/<seq>                        the facts callback seq made true, in order
//	relay/backfilled                    where the relay's last backfill on this store
//	                                    left REFUND_EVENTS (JSON; the relay's, not the
//	                                    projection's: audit leaves relay/ out)
//
// Layout 1 kept each fact of the outbox under outbox/<seq>/<nnnn>; the
// outbox reader still reads those (see OutboxAfter).
var (
	keyCheckpoint  = []byte("meta/checkpoint")
	keyFoldVersion = []byte("meta/foldversion")
	keyLayout      = []byte("meta/layout")
	// relayPrefix is what the relay keeps in the store beside the
	// projection; a fresh fold writes nothing under it.
	relayPrefix   = []byte("relay/")
	keyBackfilled = []byte("relay/backfilled")
)

func refundKey(p proto.Platform, refundID string) []byte { return appendRefundKey(nil, p, refundID) }

func orderKey(p proto.Platform, orderID string) []byte { return appendOrderKey(nil, p, orderID) }

func deliveryKey(p proto.Platform, refundID string, seq uint64) []byte {
	return appendDeliveryKey(nil, p, refundID, seq)
}

// The append forms build a key into a buffer the caller reuses: the fold
// makes several keys per callback and Pebble copies what it is given.

func appendRefundKey(dst []byte, p proto.Platform, refundID string) []byte {
	return appendPath(append(dst, "refund/"...), p, refundID)
}

func appendOrderKey(dst []byte, p proto.Platform, orderID string) []byte {
	return appendPath(append(dst, "order/"...), p, orderID)
}

func appendDeliveryKey(dst []byte, p proto.Platform, refundID string, seq uint64) []byte {
	return binary.BigEndian.AppendUint64(append(appendPath(append(dst, "delivery/"...), p, refundID), '/'), seq)
}

func appendPath(dst []byte, p proto.Platform, id string) []byte {
	return append(append(append(dst, esc(string(p))...), '/'), esc(id)...)
}

func quarantineKey(seq uint64) []byte {
	return binary.BigEndian.AppendUint64([]byte("quarantine/"), seq)
}

func outboxKey(seq uint64) []byte { return appendOutboxKey(nil, seq) }

func appendOutboxKey(dst []byte, seq uint64) []byte {
	return binary.BigEndian.AppendUint64(append(dst, "outbox/"...), seq)
}

// prefixEnd returns the smallest key greater than every key with prefix p.
func prefixEnd(p []byte) []byte {
	end := append([]byte(nil), p...)
	for i := len(end) - 1; i >= 0; i-- {
		end[i]++
		if end[i] != 0 {
			return end[:i+1]
		}
	}
	return nil
}
