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
//
// Layout 1 kept each fact of the outbox under outbox/<seq>/<nnnn>; the
// outbox reader still reads those (see OutboxAfter).
var (
	keyCheckpoint  = []byte("meta/checkpoint")
	keyFoldVersion = []byte("meta/foldversion")
	keyLayout      = []byte("meta/layout")
)

func refundKey(p proto.Platform, refundID string) []byte {
	return []byte("refund/" + esc(string(p)) + "/" + esc(refundID))
}

func orderKey(p proto.Platform, orderID string) []byte {
	return []byte("order/" + esc(string(p)) + "/" + esc(orderID))
}

func deliveryKey(p proto.Platform, refundID string, seq uint64) []byte {
	return binary.BigEndian.AppendUint64([]byte("delivery/"+esc(string(p))+"/"+esc(refundID)+"/"), seq)
}

func quarantineKey(seq uint64) []byte {
	return binary.BigEndian.AppendUint64([]byte("quarantine/"), seq)
}

func outboxKey(seq uint64) []byte {
	return binary.BigEndian.AppendUint64([]byte("outbox/"), seq)
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
