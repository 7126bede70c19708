package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/spf13/cobra"

	"refundledger/ingest"
	"refundledger/proto"
)

func replayCmd() *cobra.Command {
	var (
		natsURL, platform, typ, order string
		from                          uint64
		limit                         int
		raw                           bool
	)
	cmd := &cobra.Command{
		Use:   "replay",
		Short: "List the callbacks the stream holds, as received, for one order or all",
		Long: `Read the callback stream (the record: the exact bytes received) and list the
callbacks with their stream sequence, receive time, type, order, retry count,
signature result and receipt, or with --raw print the bodies themselves, one
per line (JSON whitespace between tokens removed; the values are as received).

It reads a running service's NATS (serve's --nats-listen) and changes
nothing. A refund's callbacks are filed under its order: use --order.`,
		Example: `  refundledger replay --order 2044420321024880794
  refundledger replay --type ORDER_BUYER_VIEW_ORDER_BUYER_REFUND --limit 20
  refundledger replay --order 2044420321024880794 --raw > order.jsonl`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			subject := ingest.StreamSubjects // everything, quarantine included
			if platform != "" || typ != "" || order != "" {
				subject = "xportcn.cb." + subjectToken(platform) + "." + subjectToken(typ) + "." + subjectToken(order)
			}
			return replay(cmd.Context(), natsURL, subject, from, limit, raw, cmd.OutOrStdout())
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&natsURL, "nats", nats.DefaultURL, "NATS server holding the stream (serve's --nats-listen)")
	fl.StringVar(&platform, "platform", "", "only this platform: 1688, taobao or unknown")
	fl.StringVar(&typ, "type", "", "only this message type, e.g. ORDER_BUYER_VIEW_ORDER_BUYER_REFUND")
	fl.StringVar(&order, "order", "", "only this order id ('_' for callbacks that name none)")
	fl.Uint64Var(&from, "from", 1, "first stream sequence to read")
	fl.IntVar(&limit, "limit", 0, "most callbacks to list (0: all)")
	fl.BoolVar(&raw, "raw", false, "print the bodies, one JSON document per line, instead of a table")
	return cmd
}

// subjectToken is the filter token for a flag: any ("*") when empty, else
// the value as the ingester files it.
func subjectToken(v string) string {
	if v == "" {
		return "*"
	}
	return proto.SubjectToken(v)
}

func replay(ctx context.Context, natsURL, subject string, from uint64, limit int, raw bool, out io.Writer) (err error) {
	conn, err := connect(natsURL, ingest.EmbeddedOptions{}, "refundledger replay")
	if err != nil {
		return natsUnreachable(err, natsURL, "is refundledger serve running? --nats says where (serve's --nats-listen)")
	}
	defer conn.Close()
	stream, err := conn.callbacks(ctx)
	if err != nil {
		return err
	}
	info, err := stream.Info(ctx)
	if err != nil {
		return err
	}
	last := info.State.LastSeq
	cons, err := stream.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{
		FilterSubjects: []string{subject}, DeliverPolicy: jetstream.DeliverByStartSequencePolicy, OptStartSeq: max(from, 1),
	})
	if err != nil {
		return err
	}
	// What was written is flushed on every way out, and a failed write
	// (the buffered writer keeps the first) fails the command.
	w := bufio.NewWriter(&errWriter{w: out})
	var t *table
	defer func() {
		if t != nil {
			t.write(w) // into w, whose Flush reports any error
		}
		err = errors.Join(err, w.Flush())
	}()
	if !raw {
		t = newReplayTable()
	}
	// Messages come in batches of up to replayBatch per request (one request
	// a message made a whole stream take an hour); a batch that brings none
	// within the wait means nothing more matches.
	n := 0
	for from <= last && (limit == 0 || n < limit) {
		want := replayBatch
		if limit > 0 {
			want = min(want, limit-n)
		}
		batch, err := cons.Fetch(want, jetstream.FetchMaxWait(2*time.Second))
		if err != nil {
			return fmt.Errorf("read the stream: %w", err)
		}
		got, done := 0, false
		for msg := range batch.Messages() {
			got++
			meta, err := msg.Metadata()
			if err != nil {
				return err
			}
			if raw {
				writeLine(w, msg.Data())
			} else {
				printReplayRow(t, meta.Sequence.Stream, msg)
			}
			n++
			if meta.NumPending == 0 || meta.Sequence.Stream >= last || n == limit {
				done = true
				break
			}
		}
		if err := batch.Error(); err != nil && !errors.Is(err, nats.ErrTimeout) {
			return fmt.Errorf("read the stream: %w", err)
		}
		if done || got == 0 {
			break
		}
	}
	return nil
}

// replayBatch is how many messages replay asks for at a time.
const replayBatch = 500

// writeLine writes a body on one line: JSON with its insignificant
// whitespace removed (the same value), anything else as it is.
func writeLine(w *bufio.Writer, body []byte) {
	var buf bytes.Buffer
	if json.Compact(&buf, body) == nil {
		body = buf.Bytes()
	}
	w.Write(bytes.TrimRight(body, "\r\n"))
	w.WriteByte('\n')
}

func newReplayTable() *table {
	return newTable(numCol("SEQ"), textCol("RECEIVED (UTC)"), textCol("PLATFORM"), textCol("TYPE"), textCol("ORDER"),
		numCol("RETRY"), textCol("SIGNATURE"), numCol("BYTES"), textCol("RECEIPT"))
}

func printReplayRow(t *table, seq uint64, msg jetstream.Msg) {
	h := msg.Headers()
	received := h.Get(proto.HeaderReceivedAt)
	if t, err := time.Parse(time.RFC3339Nano, received); err == nil {
		received = t.UTC().Format("2006-01-02 15:04:05")
	}
	// xportcn.cb.<platform>.<type>.<order>
	parts := strings.SplitN(msg.Subject(), ".", 5)
	for len(parts) < 5 {
		parts = append(parts, "-")
	}
	retry := h.Get(proto.HeaderRetryCount)
	if q := h.Get(proto.HeaderQuarantine); q != "" {
		parts[3], retry = "quarantined: "+q, "-"
	}
	t.row(fmt.Sprint(seq), orDash(received), parts[2], parts[3], parts[4],
		orDash(retry), orDash(h.Get(proto.HeaderSignature)), fmt.Sprint(len(msg.Data())), orDash(h.Get(proto.HeaderReceiptID)))
}
