package main

import "github.com/spf13/cobra"

// benchCmd groups the measurements that README's performance section quotes.
// Each subcommand measures its baseline and the real path in one run, so the
// ratios hold on a noisy machine.
func benchCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "bench",
		Short: "Measure throughput and latency against baselines taken in the same run",
	}
	cmd.AddCommand(benchIngestCmd(), benchReplayCmd())
	return cmd
}
