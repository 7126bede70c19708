package main

import (
	"fmt"
	"io"
	"net/url"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"refundledger/ledger"
	"refundledger/projections"
)

func showCmd() *cobra.Command {
	var admin string
	var history bool
	cmd := &cobra.Command{
		Use:   "show refund|order PLATFORM ID",
		Short: "Show a refund (its operations, postings, anomalies) or an order, for people",
		Example: `  refundledger show refund 1688 TQ142969441872889407
  refundledger show refund 1688 TQ142969441872889407 --history
  refundledger show order 1688 3305075341149134260`,
		Args: cobra.ExactArgs(3),
		RunE: func(cmd *cobra.Command, args []string) error {
			kind, platform, id := args[0], url.PathEscape(args[1]), url.PathEscape(args[2])
			out := &errWriter{w: cmd.OutOrStdout()}
			switch kind {
			case "refund":
				var r ledger.Refund
				if err := adminGet(cmd.Context(), admin, "/v1/refunds/"+platform+"/"+id, 10*time.Second, &r); err != nil {
					return err
				}
				printRefund(out, r)
				if history {
					var h projections.History
					if err := adminGet(cmd.Context(), admin, "/v1/refunds/"+platform+"/"+id+"/history", 10*time.Second, &h); err != nil {
						return err
					}
					printDeliveries(out, h.Deliveries)
				}
			case "order":
				var o ledger.Order
				if err := adminGet(cmd.Context(), admin, "/v1/orders/"+platform+"/"+id, 10*time.Second, &o); err != nil {
					return err
				}
				printOrder(out, o)
			default:
				return fmt.Errorf("show %q: want refund or order", kind)
			}
			return out.err
		},
	}
	cmd.Flags().StringVar(&admin, "admin", defaultAdmin, "admin address of the running service")
	cmd.Flags().BoolVar(&history, "history", false, "also list every delivery of the refund's callbacks")
	return cmd
}

// fmtFen writes an amount of fen as yuan with two decimals: 16700 -> 167.00.
func fmtFen(fen int64) string {
	sign := ""
	if fen < 0 {
		sign, fen = "-", -fen
	}
	return fmt.Sprintf("%s%s.%02d", sign, fmtCount(uint64(fen/100)), fen%100)
}

func fmtTime(t ledger.Time) string {
	if t == 0 {
		return "-"
	}
	return time.UnixMilli(int64(t)).UTC().Format("2006-01-02 15:04:05")
}

var roles = map[int64]string{1: "buyer", 2: "seller", 3: "staff", 4: "system"}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return cell(s)
}

func printRefund(w io.Writer, r ledger.Refund) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "refund\t%s/%s\n", r.Platform, cell(r.RefundID))
	fmt.Fprintf(tw, "order\t%s\n", orDash(r.OrderID))
	state := r.Phase
	if r.Terminal {
		state += ", terminal"
	}
	fmt.Fprintf(tw, "status\t%s (%s)\n", cell(r.Status), state)
	fmt.Fprintf(tw, "applied\tgoods %s + carriage %s CNY\n", fmtFen(r.Amounts.ApplyPayment), fmtFen(r.Amounts.ApplyCarriage))
	fmt.Fprintf(tw, "refunded\tgoods %s + carriage %s CNY\n", fmtFen(r.Amounts.RefundPayment), fmtFen(r.Amounts.RefundCarriage))
	fmt.Fprintf(tw, "booked\t%s CNY\n", fmtFen(r.Booked))
	fmt.Fprintf(tw, "updated\t%s UTC (%s folded)\n", fmtTime(r.UpdatedAt), plural(r.Snapshots, "snapshot"))
	tw.Flush()

	fmt.Fprintln(w, "\nOPERATIONS")
	// TYPE is Xportcn's code for the operation, a name more than a
	// quantity: text.
	t := newTable(textCol("AT (UTC)"), textCol("ID"), textCol("TYPE"), textCol("BY"), textCol("FROM"), textCol("TO"), textCol("REMARK"))
	for _, op := range r.Operations {
		t.row(fmtTime(op.At), cell(op.ID), fmt.Sprint(op.Type), orDash(roles[op.Role]), orDash(op.From), cell(op.To), cell(op.Remark))
	}
	t.write(w)
	if len(r.Postings) > 0 {
		fmt.Fprintln(w, "\nPOSTINGS (CNY)")
		t := newTable(textCol("AT (UTC)"), textCol("KIND"), numCol("GOODS"), numCol("CARRIAGE"), numCol("AMOUNT"), textCol("ID"))
		for _, p := range r.Postings {
			t.row(fmtTime(p.At), p.Kind, fmtFen(p.Goods), fmtFen(p.Carriage), fmtFen(p.Amount), cell(p.ID))
		}
		t.write(w)
	}
	printAnomalies(w, r.Anomalies)
}

func printAnomalies(w io.Writer, list []ledger.Anomaly) {
	if len(list) == 0 {
		return
	}
	fmt.Fprintln(w, "\nANOMALIES")
	t := newTable(textCol(""), textCol("")) // code, detail; no header
	for _, a := range list {
		t.row(cell(a.Code), cell(a.Detail))
	}
	t.write(w)
}

func printDeliveries(w io.Writer, ds []projections.Delivery) {
	fmt.Fprintln(w, "\nDELIVERIES")
	t := newTable(numCol("SEQ"), textCol("RECEIVED (UTC)"), textCol("PUSHED (UTC)"), numCol("RETRY"), textCol("MESSAGE ID"), textCol("NEW?"))
	for _, d := range ds {
		isNew := "new"
		if d.Duplicate {
			isNew = "duplicate"
		}
		t.row(fmt.Sprint(d.Seq), fmtTime(ledger.Time(d.ReceivedAt)), fmtTime(ledger.Time(d.PushedAt)), fmt.Sprint(d.RetryCount), orDash(d.MessageID), isNew)
	}
	t.write(w)
}

func printOrder(w io.Writer, o ledger.Order) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "order\t%s/%s\n", o.Platform, cell(o.OrderID))
	fmt.Fprintf(tw, "order no\t%s\n", orDash(o.OrderNo))
	// The state does not count the order's messages, but each leaves a
	// trace: totals, a status, the order number or the payment. With none,
	// only refunds have named the order, and whether it was paid is not
	// known.
	messages := o.Current != nil || len(o.StatusHistory) > 0 || o.OrderNo != "" || o.Paid
	switch {
	case o.Current != nil:
		c := o.Current
		fmt.Fprintf(tw, "status\t%s (as of %s UTC)\n", cell(c.Status), fmtTime(c.At))
		fmt.Fprintf(tw, "totals\t%s CNY = products %s + shipping %s\n", fmtFen(c.TotalAmount), fmtFen(c.ProductAmount), fmtFen(c.ShippingFee))
	case len(o.StatusHistory) > 0:
		c := o.StatusHistory[len(o.StatusHistory)-1]
		fmt.Fprintf(tw, "status\t%s (as of %s UTC)\n", cell(c.Status), fmtTime(c.At))
		fmt.Fprintf(tw, "totals\tnot stated by any order message\n")
	case messages:
		fmt.Fprintf(tw, "status\tnot stated by any order message\n")
	default:
		fmt.Fprintf(tw, "status\tno order message yet (only refunds name this order)\n")
	}
	paid := "not paid"
	switch {
	case o.Paid && o.PaidTotalKnown:
		paid = fmtFen(o.PaidTotal) + " CNY"
	case o.Paid:
		paid = "yes, total not stated by any order message"
	case !messages:
		paid = "unknown (no order message yet)"
	}
	fmt.Fprintf(tw, "paid\t%s\n", paid)
	fmt.Fprintf(tw, "refunded\t%s CNY in %s\n", fmtFen(o.RefundedTotal), plural(len(o.Refunds), "refund"))
	tw.Flush()
	if len(o.PriceHistory) > 1 {
		fmt.Fprintln(w, "\nPRICE HISTORY (CNY)")
		t := newTable(textCol("AT (UTC)"), numCol("TOTAL"), numCol("CHANGE"), numCol("PRODUCTS"), numCol("SHIPPING"), textCol("MESSAGE"))
		for _, p := range o.PriceHistory {
			t.row(fmtTime(p.At), fmtFen(p.TotalAmount), fmtFen(p.DiffTotal), fmtFen(p.ProductAmount), fmtFen(p.ShippingFee), cell(p.Type))
		}
		t.write(w)
	}
	if len(o.Refunds) > 0 {
		fmt.Fprintln(w, "\nREFUNDS")
		t := newTable(textCol("REFUND"), textCol("STATUS"), textCol("PHASE"), numCol("BOOKED (CNY)"))
		for _, l := range o.Refunds {
			t.row(cell(l.RefundID), cell(l.Status), l.Phase, fmtFen(l.Booked))
		}
		t.write(w)
	}
	printAnomalies(w, o.Anomalies)
}
