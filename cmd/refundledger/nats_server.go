package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"refundledger/ingest"
)

// natsServerCmd runs an embedded NATS server as a process of its own, so that
// `bench replay` measures the projection's memory apart from the server's.
// It prints the client URL on one line and runs until SIGTERM or until its
// standard input closes (its parent died).
func natsServerCmd() *cobra.Command {
	var store string
	var syncEvery time.Duration
	cmd := &cobra.Command{
		Use:    "nats-server",
		Short:  "Run the embedded NATS server alone (for benchmarks)",
		Hidden: true,
		Args:   cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ns, err := ingest.StartEmbeddedNATS(ingest.EmbeddedOptions{StoreDir: store, SyncInterval: syncEvery})
			if err != nil {
				return err
			}
			defer func() { ns.Shutdown(); ns.WaitForShutdown() }()
			fmt.Fprintln(cmd.OutOrStdout(), ns.ClientURL())
			stop := make(chan os.Signal, 1)
			signal.Notify(stop, syscall.SIGTERM, os.Interrupt)
			eof := make(chan struct{})
			go func() { io.Copy(io.Discard, os.Stdin); close(eof) }()
			select {
			case <-stop:
			case <-eof:
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&store, "store", "", "JetStream store directory")
	cmd.Flags().DurationVar(&syncEvery, "sync-interval", time.Minute, "JetStream fsync interval")
	return cmd
}

// natsChild is a `refundledger nats-server` child process.
type natsChild struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	URL   string
	PID   string
}

// startNATSChild starts this binary's hidden nats-server command on store.
func startNATSChild(store string) (*natsChild, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(self, "nats-server", "--store", store)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil || !strings.HasPrefix(line, "nats://") {
		cmd.Process.Kill()
		cmd.Wait()
		return nil, fmt.Errorf("nats-server child: %q: %v", line, err)
	}
	return &natsChild{cmd: cmd, stdin: stdin, URL: strings.TrimSpace(line), PID: strconv.Itoa(cmd.Process.Pid)}, nil
}

// Stop ends the child and waits for it.
func (c *natsChild) Stop() error {
	c.cmd.Process.Signal(syscall.SIGTERM)
	c.stdin.Close()
	return c.cmd.Wait()
}
