package projections

import (
	"strconv"
	"time"

	"github.com/nats-io/nats.go"

	"refundledger/ledger"
	"refundledger/proto"
)

// Message is one stored callback as the projector sees it: the stream
// sequence, the subject, the ingester's headers and the exact bytes received.
type Message struct {
	Seq     uint64
	Subject string
	Header  nats.Header
	Data    []byte
}

// delivery reads how the message reached the ledger from its headers and
// envelope. A missing or malformed header yields a zero field, never an error:
// headers are informational, the body is the record.
func (m Message) delivery(env proto.Envelope) ledger.Delivery {
	d := ledger.Delivery{Seq: m.Seq, PushedAt: env.PushedAt, RetryCount: env.RetryCount, MessageID: env.ID}
	if t, err := time.Parse(time.RFC3339Nano, m.Header.Get(proto.HeaderReceivedAt)); err == nil {
		d.ReceivedAt = t.UnixMilli()
	}
	if d.RetryCount == 0 {
		d.RetryCount, _ = strconv.ParseInt(m.Header.Get(proto.HeaderRetryCount), 10, 64)
	}
	return d
}
