package main

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"refundledger/ingest"
	"refundledger/ledger"
)

// TestCellShowsControlCharactersAsEscapes: text from a callback cannot
// break a table's columns or send commands to the terminal.
func TestCellShowsControlCharactersAsEscapes(t *testing.T) {
	for in, want := range map[string]string{
		"买家申请退款":             "买家申请退款",
		"a\tb\nc":            `a\tb\nc`,
		"\x1b[31mred\x1b[0m": `\x1b[31mred\x1b[0m`,
		"x\u0085y\u007fz":    `x\u0085y\x7fz`,
		"":                   "",
	} {
		if got := cell(in); got != want {
			t.Errorf("cell(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestShowPrintsCallbackTextEscaped: a remark with a newline and a terminal
// escape, as anyone who can reach an unsigned callback port can send, stays
// on its row and reaches the terminal as text.
func TestShowPrintsCallbackTextEscaped(t *testing.T) {
	var out strings.Builder
	printRefund(&out, ledger.Refund{Platform: "1688", RefundID: "TQ1\x1b]0;x\x07", Status: "refundsuccess",
		Operations: []ledger.Transition{{ID: "1", To: "refundsuccess", Remark: "line\nbreak \x1b[31mred"}}})
	s := out.String()
	if strings.ContainsAny(s, "\x1b\x07") {
		t.Errorf("a terminal escape reached the output:\n%q", s)
	}
	if !strings.Contains(s, `line\nbreak \x1b[31mred`) {
		t.Errorf("the remark is not on its row, escaped:\n%s", s)
	}
}

// cancelOnWrite cancels when what was written holds want.
type cancelOnWrite struct {
	mu     sync.Mutex
	buf    strings.Builder
	want   string
	cancel func()
}

func (c *cancelOnWrite) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.buf.Write(p)
	if strings.Contains(c.buf.String(), c.want) {
		c.cancel()
	}
	return len(p), nil
}

// TestProjectBannerHeaderFirst: `project` prints its header line, then the
// admin address and NATS under it, as serve prints its banner.
func TestProjectBannerHeaderFirst(t *testing.T) {
	ns, err := ingest.StartEmbeddedNATS(ingest.EmbeddedOptions{StoreDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { ns.Shutdown(); ns.WaitForShutdown() }()
	conn, err := connect(ns.ClientURL(), ingest.EmbeddedOptions{}, "test")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := ingest.EnsureStream(ctx, conn.JS, 1); err != nil {
		t.Fatal(err)
	}
	out := &cancelOnWrite{want: "  nats ", cancel: cancel}
	data := t.TempDir()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	if err := project(ctx, data, ns.ClientURL(), "127.0.0.1:0", 1, log, out); err != nil && !errors.Is(err, context.Canceled) {
		t.Fatalf("project: %v\n%s", err, out.buf.String())
	}
	want := regexp.MustCompile(`^refundledger projecting ` + ingest.StreamName + ` into ` + regexp.QuoteMeta(filepath.Join(data, "pebble")) + `
  admin      http://127\.0\.0\.1:\d+/v1/status
  nats       ` + regexp.QuoteMeta(ns.ClientURL()) + `
$`)
	if !want.MatchString(out.buf.String()) {
		t.Errorf("want the header line, then the admin address and NATS; got\n%s", out.buf.String())
	}
}
