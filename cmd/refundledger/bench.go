package main

import (
	"errors"
	"os"
	"runtime"
	"runtime/pprof"

	"github.com/spf13/cobra"
)

// benchCmd groups the measurements that README's performance section quotes.
// Each subcommand measures its baseline and the real path in one run, so the
// ratios hold on a noisy machine.
func benchCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "bench",
		Short: "Measure throughput and latency against baselines taken in the same run",
	}
	cmd.PersistentFlags().String("cpuprofile", "", "write a CPU profile of the whole run to this file (go tool pprof)")
	cmd.PersistentFlags().String("memprofile", "", "write what the whole run allocated to this file (go tool pprof -sample_index=alloc_space)")
	cmd.AddCommand(benchIngestCmd(), benchReplayCmd())
	return cmd
}

// profiled runs fn under a CPU profile written to the --cpuprofile file,
// and writes the allocation profile to the --memprofile file after it, when
// they are given.
func profiled(cmd *cobra.Command, fn func() error) error {
	if path, _ := cmd.Flags().GetString("memprofile"); path != "" {
		inner := fn
		fn = func() error {
			if err := inner(); err != nil {
				return err
			}
			// The profile is as of the last collection; a bulk fold's
			// settings make those rare, so the last phase would be missing.
			runtime.GC()
			f, err := os.Create(path)
			if err != nil {
				return err
			}
			return errors.Join(pprof.Lookup("allocs").WriteTo(f, 0), f.Close())
		}
	}
	path, _ := cmd.Flags().GetString("cpuprofile")
	if path == "" {
		return fn()
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := pprof.StartCPUProfile(f); err != nil {
		return err
	}
	defer pprof.StopCPUProfile()
	return fn()
}
