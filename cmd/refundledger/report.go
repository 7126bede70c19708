package main

import (
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"

	"refundledger/projections"
)

func reportCmd() *cobra.Command {
	var admin string
	cmd := &cobra.Command{
		Use:   "report",
		Short: "Refunds and money booked by platform and phase, and the anomalies to look at",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var rep projections.Report
			if err := adminGet(cmd.Context(), admin, "/v1/report", 5*time.Minute, &rep); err != nil {
				return err
			}
			out := &errWriter{w: cmd.OutOrStdout()}
			printReport(out, rep)
			return out.err
		},
	}
	cmd.Flags().StringVar(&admin, "admin", defaultAdmin, "admin address of the running service")
	return cmd
}

func printReport(w io.Writer, rep projections.Report) {
	fmt.Fprintf(w, "ledger up to stream sequence %s\n\n", fmtCount(rep.Checkpoint))
	t := newTable(textCol("PLATFORM"), textCol("PHASE"), numCol("REFUNDS"), numCol("POSTINGS"), numCol("BOOKED (CNY)"))
	for _, r := range rep.Rows {
		t.row(string(r.Platform), r.Phase, fmtCount(uint64(r.Refunds)), fmtCount(uint64(r.Postings)), fmtFen(r.Booked))
	}
	t.row("total", "", fmtCount(uint64(rep.Refunds)), "", fmtFen(rep.BookedTotal))
	t.write(w)
	fmt.Fprintln(w)
	t = newTable(textCol("ANOMALY"), numCol("COUNT"))
	for _, a := range rep.Anomalies {
		t.row(a.Code, fmtCount(uint64(a.Count)))
	}
	t.row("quarantined callbacks", fmtCount(rep.Quarantined))
	t.write(w)
}
