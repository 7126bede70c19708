package main

import (
	"fmt"
	"io"
	"text/tabwriter"
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
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "PLATFORM\tPHASE\tREFUNDS\tPOSTINGS\tBOOKED (CNY)\t")
	for _, r := range rep.Rows {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t\n", r.Platform, r.Phase, fmtCount(uint64(r.Refunds)), fmtCount(uint64(r.Postings)), fmtFen(r.Booked))
	}
	fmt.Fprintf(tw, "total\t\t%s\t\t%s\t\n", fmtCount(uint64(rep.Refunds)), fmtFen(rep.BookedTotal))
	tw.Flush()
	fmt.Fprintln(w)
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "ANOMALY\tCOUNT\t")
	for _, a := range rep.Anomalies {
		fmt.Fprintf(tw, "%s\t%s\t\n", a.Code, fmtCount(uint64(a.Count)))
	}
	fmt.Fprintf(tw, "quarantined callbacks\t%s\t\n", fmtCount(rep.Quarantined))
	tw.Flush()
}
