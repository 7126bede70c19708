package projections

import (
	"fmt"
	"strconv"
	"strings"
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
	if h := m.Header.Get(proto.HeaderRetryCount); d.RetryCount == 0 && h != "" {
		d.RetryCount, _ = strconv.ParseInt(h, 10, 64)
	}
	return d
}

// streamSeq reads the stream sequence from the reply subject of a message a
// JetStream consumer delivered, as jetstream's Msg.Metadata does, without the
// allocations of the whole metadata (the projector needs only this, for
// every message):
//
//	$JS.ACK.<stream>.<consumer>.<delivered>.<sseq>.<cseq>.<tm>.<pending>
//	$JS.ACK.<domain>.<account hash>.<stream>.<consumer>.<delivered>.<sseq>.<cseq>.<tm>.<pending>[.<token>...]
func streamSeq(reply string) (uint64, error) {
	const prefix = "$JS.ACK."
	if len(reply) < len(prefix) || reply[:len(prefix)] != prefix {
		return 0, fmt.Errorf("reply subject %q is not a JetStream acknowledgement", reply)
	}
	tokens := strings.Count(reply, ".") + 1
	var skip int // tokens before the stream sequence
	switch {
	case tokens == 9:
		skip = 5
	case tokens >= 11:
		skip = 7
	default:
		return 0, fmt.Errorf("reply subject %q has %d tokens, not 9 or 11 and more", reply, tokens)
	}
	s := reply
	for range skip {
		s = s[strings.IndexByte(s, '.')+1:]
	}
	if i := strings.IndexByte(s, '.'); i >= 0 {
		s = s[:i]
	}
	seq, err := strconv.ParseUint(s, 10, 64)
	if err != nil || seq == 0 {
		return 0, fmt.Errorf("reply subject %q: stream sequence %q is not a positive number", reply, s)
	}
	return seq, nil
}
