package main

import (
	"strings"
	"testing"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"refundledger/ledger"
	"refundledger/projections"
	"refundledger/proto"
)

// TestTableAlignsTextLeftNumbersRight: a column declared text lines up on
// the left, one declared a number on the right, its header with it; no line
// ends in spaces; a cell is as wide as its runes.
func TestTableAlignsTextLeftNumbersRight(t *testing.T) {
	tb := newTable(textCol("NAME"), numCol("N"), textCol("NOTE"))
	tb.row("a", "1,234.00", "退款成功")
	tb.row("longer name", "5.00", "")
	tb.row("退款", "-0.01", "x")
	var out strings.Builder
	if err := tb.write(&out); err != nil {
		t.Fatal(err)
	}
	want := "" +
		"NAME                N  NOTE\n" +
		"a            1,234.00  退款成功\n" +
		"longer name      5.00\n" +
		"退款              -0.01  x\n"
	if out.String() != want {
		t.Errorf("got\n%s\nwant\n%s", out.String(), want)
	}

	// Columns without names: no header line.
	tb = newTable(textCol(""), textCol(""))
	tb.row("over_refund", "refunded more than paid")
	out.Reset()
	tb.write(&out)
	if got := out.String(); got != "over_refund  refunded more than paid\n" {
		t.Errorf("a table without a header: got %q", got)
	}
}

// section returns the lines of out from the one after title to the next
// empty line.
func section(t *testing.T, out, title string) string {
	t.Helper()
	_, rest, ok := strings.Cut(out, "\n"+title+"\n")
	if !ok {
		t.Fatalf("no %s in\n%s", title, out)
	}
	if i := strings.Index(rest, "\n\n"); i >= 0 {
		rest = rest[:i+1]
	}
	return rest
}

func checkTable(t *testing.T, what, got, want string) {
	t.Helper()
	if got != want {
		t.Errorf("%s: got\n%s\nwant\n%s", what, got, want)
	}
}

// TestReportAlignsTextLeftNumbersRight: PLATFORM, PHASE and ANOMALY are
// text (left), the counts and money numbers (right).
func TestReportAlignsTextLeftNumbersRight(t *testing.T) {
	var out strings.Builder
	printReport(&out, projections.Report{
		Checkpoint: 1234,
		Rows: []projections.ReportRow{
			{Platform: "1688", Phase: "succeeded", Refunds: 1200, Postings: 1310, Booked: 123456789},
			{Platform: "taobao", Phase: "open", Refunds: 3, Postings: 0, Booked: 0},
		},
		Anomalies:   []projections.AnomalyCount{{Code: "over_refund", Count: 2}, {Code: "late", Count: 1500}},
		Refunds:     1203,
		BookedTotal: 123456789,
		Quarantined: 7,
	})
	want := "ledger up to stream sequence 1,234\n" +
		"\n" +
		"PLATFORM  PHASE      REFUNDS  POSTINGS  BOOKED (CNY)\n" +
		"1688      succeeded    1,200     1,310  1,234,567.89\n" +
		"taobao    open             3         0          0.00\n" +
		"total                  1,203            1,234,567.89\n" +
		"\n" +
		"ANOMALY                COUNT\n" +
		"over_refund                2\n" +
		"late                   1,500\n" +
		"quarantined callbacks      7\n"
	checkTable(t, "report", out.String(), want)
}

// TestShowTablesAlignTextLeftNumbersRight: in `show refund` and `show
// order` the kinds, ids and messages are text (left), the money and
// sequences numbers (right).
func TestShowTablesAlignTextLeftNumbersRight(t *testing.T) {
	var out strings.Builder
	printRefund(&out, ledger.Refund{Platform: "1688", RefundID: "TQ1", Status: "refundsuccess",
		Postings: []ledger.Posting{
			{ID: "1688/TQ1/posting/1", Kind: "refund", Goods: 11700, Carriage: 5000, Amount: 16700, At: 1704853763000},
			{ID: "1688/TQ1/posting/2", Kind: "adjustment", Goods: -100, Carriage: 0, Amount: -100, At: 1704853764000},
		}})
	checkTable(t, "POSTINGS", section(t, out.String(), "POSTINGS (CNY)"), ""+
		"AT (UTC)             KIND         GOODS  CARRIAGE  AMOUNT  ID\n"+
		"2024-01-10 02:29:23  refund      117.00     50.00  167.00  1688/TQ1/posting/1\n"+
		"2024-01-10 02:29:24  adjustment   -1.00      0.00   -1.00  1688/TQ1/posting/2\n")

	out.Reset()
	printDeliveries(&out, []projections.Delivery{
		{Delivery: ledger.Delivery{Seq: 5, ReceivedAt: 1704853763000, RetryCount: 0, MessageID: "224"}},
		{Delivery: ledger.Delivery{Seq: 1234, ReceivedAt: 1704853764000, RetryCount: 12, MessageID: "224"}, Duplicate: true},
	})
	checkTable(t, "DELIVERIES", section(t, out.String(), "DELIVERIES"), ""+
		" SEQ  RECEIVED (UTC)       PUSHED (UTC)  RETRY  MESSAGE ID  NEW?\n"+
		"   5  2024-01-10 02:29:23  -                 0  224         new\n"+
		"1234  2024-01-10 02:29:24  -                12  224         duplicate\n")

	out.Reset()
	printOrder(&out, ledger.Order{Platform: "1688", OrderID: "1",
		Current: &ledger.OrderTotals{Status: "waitbuyerpay", TotalAmount: 10000, ProductAmount: 9500, ShippingFee: 500},
		PriceHistory: []ledger.PriceChange{
			{OrderTotals: ledger.OrderTotals{Type: "ORDER_CREATE", TotalAmount: 10000, ProductAmount: 9500, ShippingFee: 500, At: 1779263269000}},
			{OrderTotals: ledger.OrderTotals{Type: "PRICE_MODIFY", TotalAmount: 9800, ProductAmount: 9300, ShippingFee: 500, At: 1779263270000}, DiffTotal: -200},
		},
		Refunds: []ledger.RefundLink{
			{RefundID: "TQ1", Status: "refundsuccess", Phase: "succeeded", Booked: 16700},
			{RefundID: "TQ22", Status: "waitselleragree", Phase: "open", Booked: 0},
		}})
	checkTable(t, "PRICE HISTORY", section(t, out.String(), "PRICE HISTORY (CNY)"), ""+
		"AT (UTC)              TOTAL  CHANGE  PRODUCTS  SHIPPING  MESSAGE\n"+
		"2026-05-20 07:47:49  100.00    0.00     95.00      5.00  ORDER_CREATE\n"+
		"2026-05-20 07:47:50   98.00   -2.00     93.00      5.00  PRICE_MODIFY\n")
	checkTable(t, "REFUNDS", section(t, out.String(), "REFUNDS"), ""+
		"REFUND  STATUS           PHASE      BOOKED (CNY)\n"+
		"TQ1     refundsuccess    succeeded        167.00\n"+
		"TQ22    waitselleragree  open               0.00\n")
}

// fakeMsg is a stream message as replay reads it: only its subject, headers
// and body are asked for.
type fakeMsg struct {
	jetstream.Msg
	subject string
	headers nats.Header
	data    []byte
}

func (m fakeMsg) Subject() string      { return m.subject }
func (m fakeMsg) Headers() nats.Header { return m.headers }
func (m fakeMsg) Data() []byte         { return m.data }

// TestReplayAlignsTextLeftNumbersRight: SEQ, RETRY and BYTES are numbers
// (right), the rest text (left).
func TestReplayAlignsTextLeftNumbersRight(t *testing.T) {
	msg := func(typ, order, retry string, size int) fakeMsg {
		h := nats.Header{}
		h.Set(proto.HeaderReceivedAt, "2026-11-28T08:37:27.123Z")
		h.Set(proto.HeaderRetryCount, retry)
		h.Set(proto.HeaderSignature, "off")
		h.Set(proto.HeaderReceiptID, "R"+order)
		return fakeMsg{subject: "xportcn.cb.1688." + typ + "." + order, headers: h, data: make([]byte, size)}
	}
	tb := newReplayTable()
	printReplayRow(tb, 9, msg("ORDER_CREATE", "3305075341149134260", "0", 405))
	printReplayRow(tb, 10, msg("ORDER_BUYER_VIEW_ORDER_BUYER_REFUND", "2044", "12", 5234))
	var out strings.Builder
	tb.write(&out)
	checkTable(t, "replay", out.String(), ""+
		"SEQ  RECEIVED (UTC)       PLATFORM  TYPE                                 ORDER                RETRY  SIGNATURE  BYTES  RECEIPT\n"+
		"  9  2026-11-28 08:37:27  1688      ORDER_CREATE                         3305075341149134260      0  off          405  R3305075341149134260\n"+
		" 10  2026-11-28 08:37:27  1688      ORDER_BUYER_VIEW_ORDER_BUYER_REFUND  2044                    12  off         5234  R2044\n")
}

// TestAuditReportsAlignNumbersRight: the audits' counts and the CALLBACK
// column of the events audit are numbers, right-aligned.
func TestAuditReportsAlignNumbersRight(t *testing.T) {
	var out strings.Builder
	printAudit(&out, projections.AuditReport{Checkpoint: 12345, Keys: 67890, Differences: 1,
		Diffs: []projections.AuditDiff{{Key: "refund/1688/TQ1", Kind: "different"}}})
	checkTable(t, "audit", out.String(), ""+
		"checkpoint     12,345\n"+
		"keys compared  67,890\n"+
		"differences         1\n"+
		"\n"+
		"KIND       KEY\n"+
		"different  refund/1688/TQ1\n"+
		"FAILED: missing = only in a fresh fold, extra = only in the projection; `refundledger rebuild` replaces it\n")

	out.Reset()
	printEventsAudit(&out, projections.EventsReport{Events: 1000, Reached: 9, Facts: 1001, Missing: 1,
		Examples: []projections.EventsDiff{{Problem: "missing", FactID: "f1", Seq: 1234}, {Problem: "repeated", FactID: "f2", Seq: 7}}})
	got := out.String()
	if _, problems, _ := strings.Cut(got, "\n\n"); problems != ""+
		"PROBLEM   FACT  CALLBACK\n"+
		"missing   f1       1,234\n"+
		"repeated  f2           7\n" {
		t.Errorf("events audit problems:\n%s", got)
	}
	if !strings.Contains(got, "events read                                   1,000\n"+
		"last callback they reach                          9\n") {
		t.Errorf("events audit counts:\n%s", got)
	}
}
