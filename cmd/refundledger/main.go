// Command refundledger is the one binary of the refund ledger: the service
// (serve) and the tools people use to question and rebuild the record.
//
// This package only wires: flags, configuration and the packages ingest,
// projections, ledger and proto.
package main

import (
	"errors"
	"fmt"
	"os"

	"github.com/spf13/cobra"
)

func main() {
	if err := rootCmd().Execute(); err != nil {
		fmt.Fprintln(os.Stderr, "refundledger:", err)
		code := 1
		var ec exitCoder
		if errors.As(err, &ec) {
			code = ec.ExitCode()
		}
		os.Exit(code)
	}
}

// exitCoder is an error that asks for an exit status other than 1.
type exitCoder interface {
	error
	ExitCode() int
}

// troubleError exits 2: the command could not do its check at all, as
// distinct from a check that found something (exit 1; diff(1) does the same).
type troubleError struct{ err error }

func (e troubleError) Error() string { return e.err.Error() }
func (e troubleError) Unwrap() error { return e.err }
func (e troubleError) ExitCode() int { return 2 }

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
