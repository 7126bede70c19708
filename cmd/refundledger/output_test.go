package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"refundledger/ingest"
	"refundledger/ledger"
	"refundledger/ledger/simulate"
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

// TestShowOrderSeenOnlyThroughRefunds: an order no order message has
// described is not known to be unpaid; one described by status-only
// messages shows its status.
func TestShowOrderSeenOnlyThroughRefunds(t *testing.T) {
	var out strings.Builder
	printOrder(&out, ledger.Order{Platform: "1688", OrderID: "2044420321024880794", RefundedTotal: 16700,
		Refunds: []ledger.RefundLink{{RefundID: "TQ1", Status: "refundsuccess", Phase: "succeeded", Booked: 16700}}})
	s := out.String()
	for _, want := range []string{
		"status    no order message yet (only refunds name this order)\n",
		"paid      unknown (no order message yet)\n",
	} {
		if !strings.Contains(s, want) {
			t.Errorf("want %q in\n%s", want, s)
		}
	}

	// Status-only messages (no totals): the status is known, and so is
	// that nothing said it was paid.
	out.Reset()
	printOrder(&out, ledger.Order{Platform: "taobao", OrderID: "9",
		StatusHistory: []ledger.OrderTotals{{Status: "WAIT_BUYER_PAY", At: 1779263269000}, {Status: "TRADE_CLOSED", At: 1779263270000}}})
	s = out.String()
	for _, want := range []string{
		"status    TRADE_CLOSED (as of 2026-05-20 07:47:50 UTC)\n",
		"totals    not stated by any order message\n",
		"paid      not paid\n",
	} {
		if !strings.Contains(s, want) {
			t.Errorf("want %q in\n%s", want, s)
		}
	}
}

// closedAddr is an address nothing listens on.
func closedAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// TestUnreachableServiceIsASentence: with the service down, show and report
// say what they could not reach and why in a few words, then the hint;
// not a Go error chain.
func TestUnreachableServiceIsASentence(t *testing.T) {
	addr := closedAddr(t)
	err := adminGet(context.Background(), "http://"+addr+"/", "/v1/report", 5*time.Second, new(any))
	want := "cannot reach the service at http://" + addr + " (connection refused): is refundledger serve running? --admin says where"
	if err == nil || err.Error() != want {
		t.Errorf("got  %v\nwant %s", err, want)
	}
	if !errors.Is(err, syscall.ECONNREFUSED) {
		t.Errorf("%v does not wrap the refusal", err)
	}

	// A service that takes the connection and never answers.
	hang := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { <-hang }))
	defer srv.Close()
	defer close(hang)
	err = adminGet(context.Background(), srv.URL, "/v1/report", 50*time.Millisecond, new(any))
	want = "cannot reach the service at " + srv.URL + " (no answer within 50ms): is refundledger serve running? --admin says where"
	if err == nil || err.Error() != want {
		t.Errorf("got  %v\nwant %s", err, want)
	}
}

// TestReplayWithoutNATSSaysWhereItLooked: replay with no NATS names the URL
// it tried and how to give another.
func TestReplayWithoutNATSSaysWhereItLooked(t *testing.T) {
	url := "nats://" + closedAddr(t)
	err := replay(context.Background(), url, ingest.StreamSubjects, 1, 0, false, io.Discard)
	want := "cannot reach NATS at " + url + " (no server answered): is refundledger serve running? --nats says where (serve's --nats-listen)"
	if err == nil || err.Error() != want {
		t.Errorf("got  %v\nwant %s", err, want)
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

// TestGenPostSaysWhatWasNotAnswered: gen --post against a service that is
// down, or that answers 500, ends neither on a full bar nor with a bare
// count: it says how many of how many were answered 200 and what became of
// the others. Against one that answers 200 the bar ends at 100%.
func TestGenPostSaysWhatWasNotAnswered(t *testing.T) {
	opts := simulate.Options{Orders: 2, Seed: 1}
	var n int64
	if err := simulate.Each(opts, func(simulate.Callback) error { n++; return nil }); err != nil {
		t.Fatal(err)
	}
	var status atomic.Int64 // what the service answers
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(int(status.Load())) }))
	defer srv.Close()
	post := func(url string) (string, error) {
		t.Helper()
		var out, errOut strings.Builder
		err := genPost(context.Background(), url, opts, 4, &out, &errOut)
		return errOut.String(), err
	}
	for _, tc := range []struct {
		what, url string
		status    int
		want      string
	}{
		{"down", "http://" + closedAddr(t) + "/callbacks/xportcn", 0,
			fmt.Sprintf("0 of %d callbacks were answered 200: %d got no answer (is refundledger serve running? --post says where)", n, n)},
		{"answering 500", srv.URL, http.StatusInternalServerError,
			fmt.Sprintf("0 of %d callbacks were answered 200: %d got another status", n, n)},
	} {
		status.Store(int64(tc.status))
		progress, err := post(tc.url)
		if err == nil || err.Error() != tc.want {
			t.Errorf("%s: got  %v\nwant %s", tc.what, err, tc.want)
		}
		if strings.Contains(progress, "100.0%") {
			t.Errorf("%s: the bar ends full:\n%s", tc.what, progress)
		}
	}
	status.Store(http.StatusOK)
	progress, err := post(srv.URL)
	if err != nil || !strings.Contains(progress, fmt.Sprintf("100.0%%  %d / %d callbacks", n, n)) {
		t.Errorf("all answered 200: %v\n%s", err, progress)
	}
	if err := notAnswered200(simulate.Stats{Sent: 1, Rejected: 1}); err == nil || err.Error() != "0 of 1 callback was answered 200: 1 got another status" {
		t.Errorf("one callback: %v", err)
	}
}
