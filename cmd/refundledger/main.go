// Command refundledger is the one binary of the refund ledger: the service
// (serve) and the tools people use to question and rebuild the record.
//
// This package only wires: flags, configuration and the packages ingest,
// projections, ledger and proto.
package main

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"
)

func main() {
	if err := rootCmd().Execute(); err != nil {
		fmt.Fprintln(os.Stderr, "refundledger:", err)
		os.Exit(1)
	}
}

func rootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:           "refundledger",
		Short:         "An event-sourced ledger of the refunds Xportcn reports by webhook",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.AddCommand(natsServerCmd(), serveCmd(), projectCmd(), rebuildCmd(), auditCmd(), replayCmd(), showCmd(), reportCmd(), genCmd(), benchCmd())
	return root
}
