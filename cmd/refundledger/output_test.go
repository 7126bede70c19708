package main

import (
	"strings"
	"testing"

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
