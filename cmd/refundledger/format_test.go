package main

import (
	"bytes"
	"io"
	"regexp"
	"strings"
	"testing"
	"time"

	"refundledger/ledger"
	"refundledger/ledger/simulate"
)

func TestFormatting(t *testing.T) {
	for _, tc := range []struct {
		fen  int64
		want string
	}{{0, "0.00"}, {1, "0.01"}, {16700, "167.00"}, {-200, "-2.00"}, {123456789, "1,234,567.89"}, {-5, "-0.05"}} {
		if got := fmtFen(tc.fen); got != tc.want {
			t.Errorf("fmtFen(%d) = %q, want %q", tc.fen, got, tc.want)
		}
	}
	for n, want := range map[uint64]string{0: "0", 999: "999", 1000: "1,000", 1234567: "1,234,567"} {
		if got := fmtCount(n); got != want {
			t.Errorf("fmtCount(%d) = %q, want %q", n, got, want)
		}
	}
	for d, want := range map[time.Duration]string{0: "0:00", 61 * time.Second: "1:01", 3725 * time.Second: "1:02:05"} {
		if got := fmtDuration(d); got != want {
			t.Errorf("fmtDuration(%s) = %q, want %q", d, got, want)
		}
	}
}

// TestProgressPlainLines: off a terminal, progress prints whole lines, at
// most every plainEvery, and always the final one.
func TestProgressPlainLines(t *testing.T) {
	var buf bytes.Buffer
	now := time.Unix(0, 0)
	p := newProgress(&buf, "rebuild", "msgs")
	p.now = func() time.Time { return now }
	p.update(10, 100, 5, false)
	p.update(20, 100, 5, false) // within plainEvery: not printed
	now = now.Add(plainEvery)
	p.update(50, 100, 25, false)
	p.note = "1 callback not answered 200" // said after the ETA
	p.update(100, 100, 25, true)
	want := "rebuild   10.0%  10 / 100 msgs  5 msgs/s  ETA 0:18\n" +
		"rebuild   50.0%  50 / 100 msgs  25 msgs/s  ETA 0:02\n" +
		"rebuild  100.0%  100 / 100 msgs  25 msgs/s  ETA 0:00  1 callback not answered 200\n"
	if buf.String() != want {
		t.Fatalf("got\n%s\nwant\n%s", buf.String(), want)
	}
}

// TestPlural: one refund, two refunds, no refunds.
func TestPlural(t *testing.T) {
	for _, tc := range []struct {
		got, want string
	}{
		{plural(1, "refund"), "1 refund"},
		{plural(0, "refund"), "0 refunds"},
		{plural(2, "refund"), "2 refunds"},
		{plural(int64(1234), "callback"), "1,234 callbacks"},
		{plural(uint64(1), "snapshot"), "1 snapshot"},
	} {
		if tc.got != tc.want {
			t.Errorf("got %q, want %q", tc.got, tc.want)
		}
	}
}

// TestMessagesSayOneInTheSingular: the messages that count something say
// "1 snapshot", "1 refund", "1 order", not "1 snapshots".
func TestMessagesSayOneInTheSingular(t *testing.T) {
	var out strings.Builder
	printRefund(&out, ledger.Refund{Platform: "1688", RefundID: "TQ1", Snapshots: 1})
	if !strings.Contains(out.String(), "(1 snapshot folded)") {
		t.Errorf("show refund:\n%s", out.String())
	}
	out.Reset()
	printOrder(&out, ledger.Order{Platform: "1688", OrderID: "1", RefundedTotal: 100,
		Refunds: []ledger.RefundLink{{RefundID: "TQ1", Booked: 100}}})
	if !strings.Contains(out.String(), "1.00 CNY in 1 refund\n") {
		t.Errorf("show order:\n%s", out.String())
	}
	out.Reset()
	if err := genJSONL(simulate.Options{Orders: 1, Seed: 1}, io.Discard, &out); err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`^generated [0-9,]+ callbacks? for 1 order \(seed 1\)\n$`).MatchString(out.String()) {
		t.Errorf("gen: %q", out.String())
	}
}
