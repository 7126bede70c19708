package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/spf13/cobra"

	"refundledger/ingest"
	"refundledger/projections"
)

// serveFlags are the settings of `refundledger serve`.
type serveFlags struct {
	data        string
	listen      string
	adminListen string
	natsListen  string
	verify      string
	sync        string
	nats        string
	replicas    int
}

func serveCmd() *cobra.Command {
	var f serveFlags
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the service: embedded NATS, the callback and admin listeners, the projector",
		Long: `Run everything on one machine: an embedded NATS server with JetStream (file
storage under DATA/nats), the projection in Pebble (DATA/pebble), the public
callback listener and the admin listener (queries, status).

Signature secrets come from the environment, never from flags:
REFUNDLEDGER_ACCESS_KEY, REFUNDLEDGER_ACCESS_SECRET (comma list during a
rotation) or REFUNDLEDGER_ACCESS_SECRET_FILE.

Ctrl-C or SIGTERM shuts down gracefully.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			serveGC()
			return serve(ctx, f, slog.New(slog.NewTextHandler(cmd.ErrOrStderr(), nil)), cmd.OutOrStdout())
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.data, "data", "./data", "data directory (NATS store, Pebble projection, lock)")
	fl.StringVar(&f.listen, "listen", "127.0.0.1:8080", "callback listener address (public: POST /callbacks/xportcn)")
	fl.StringVar(&f.adminListen, "admin-listen", "127.0.0.1:8081", "admin listener address (queries, status; keep it private)")
	fl.StringVar(&f.natsListen, "nats-listen", "127.0.0.1:4222", "embedded NATS client address")
	fl.StringVar(&f.verify, "verify", "", "signature check: enforce, record or off (default: enforce when a secret is configured, else off)")
	fl.StringVar(&f.sync, "sync", "always", "embedded JetStream fsync: always (an acknowledged callback survives power loss) or interval (every 1 s)")
	fl.StringVar(&f.nats, "nats", "", "use this NATS server or cluster (comma list of URLs) instead of the embedded one")
	fl.IntVar(&f.replicas, "replicas", 1, "replicas of the streams and the nonce bucket (3 in a cluster; more than 1 needs --nats); an existing stream's are never lowered")
	return cmd
}

// serve runs until ctx ends, then shuts down in order: stop accepting
// callbacks, finish in-flight publishes, flush the projector, close Pebble,
// stop NATS.
func serve(ctx context.Context, f serveFlags, log *slog.Logger, out interface{ Write([]byte) (int, error) }) error {
	// The embedded server is one node, and JetStream refuses a replicated
	// stream there ("replicas > 1 not supported in non-clustered mode"),
	// which setup would otherwise retry for minutes before failing.
	if f.replicas > 1 && f.nats == "" {
		return fmt.Errorf("--replicas %d needs a NATS cluster: the embedded server is a single node, which holds only R1 streams; "+
			"give the cluster's URLs with --nats, or leave --replicas at 1", f.replicas)
	}
	// A bad --verify, or a mode without its secret, is refused before
	// anything starts (the verifier proper needs the nonce bucket, in NATS).
	if _, err := ingest.VerifyConfigFromEnv(os.Getenv, f.verify); err != nil {
		return err
	}
	if err := os.MkdirAll(f.data, 0o755); err != nil {
		return err
	}
	unlock, err := lockDataDir(f.data)
	if err != nil {
		return err
	}
	defer unlock()

	emb, err := embeddedOptions(f)
	if err != nil {
		return err
	}
	if f.nats != "" && f.sync != "always" {
		log.Warn("--sync is the embedded server's; with --nats, an acknowledged callback is as durable as the cluster makes it (replicas, and each node's sync_interval: see deploy/README.md)")
	}
	conn, err := connect(f.nats, emb, "refundledger serve")
	if err != nil {
		return err
	}
	defer conn.Close()
	js, natsKind := conn.JS, "external"
	if f.nats == "" {
		natsKind = "embedded"
	}
	stream, err := ensure(ctx, log, ingest.StreamName, func(ctx context.Context) (jetstream.Stream, error) {
		return ingest.EnsureStream(ctx, js, f.replicas)
	})
	if err != nil {
		return err
	}

	proj, err := projections.OpenProjection(projections.ProjectionConfig{
		JS: js, Stream: ingest.StreamName, Dir: filepath.Join(f.data, "pebble"), Logger: log,
	})
	if err != nil {
		return err
	}
	defer proj.Close()
	if _, err := ensure(ctx, log, projections.EventsStream, func(ctx context.Context) (jetstream.Stream, error) {
		return projections.EnsureEventsStream(ctx, js, f.replicas)
	}); err != nil {
		return err
	}
	relay := &projections.Relay{JS: js, Store: proj.Store, Logger: log}
	bg := runBackground(ctx, proj.Run, relay.Run)
	defer bg.stop()

	var nonces *ingest.KVNonceStore
	if err := untilReady(ctx, log, "nonce bucket", func(ctx context.Context) (err error) {
		nonces, err = ingest.NewKVNonceStore(ctx, js, f.replicas)
		return err
	}); err != nil {
		return err
	}
	verifier, err := ingest.VerifierFromEnv(os.Getenv, f.verify, nonces)
	if err != nil {
		return err
	}
	h, err := ingest.New(ingest.Config{JS: js, Verifier: verifier, Logger: log})
	if err != nil {
		return err
	}
	cbSrv := ingest.NewHTTPServer(f.listen, ingest.Routes(h))
	api := &projections.API{Projection: proj, Logger: log, LastSeq: streamLastSeq(stream), Metrics: ingestMetrics(h), Relay: relay,
		AuditEvents: eventsAuditor(js, proj), Audit: auditor(ctx, js, proj, filepath.Join(f.data, "pebble.audit"), log)}
	adminSrv := &http.Server{Addr: f.adminListen, Handler: api.Handler(), ReadHeaderTimeout: 5 * time.Second}

	cbLn, err := net.Listen("tcp", f.listen)
	if err != nil {
		return fmt.Errorf("callback listener: %w", err)
	}
	adminLn, err := net.Listen("tcp", f.adminListen)
	if err != nil {
		cbLn.Close()
		return fmt.Errorf("admin listener: %w", err)
	}
	srvErr := make(chan error, 2)
	go func() { srvErr <- cbSrv.Serve(cbLn) }()
	go func() { srvErr <- adminSrv.Serve(adminLn) }()

	cbURL := "http://" + cbLn.Addr().String() + ingest.CallbackPath
	// The streams' replicas as they are: an existing stream's are never
	// lowered to the flag's.
	replicas := stream.CachedInfo().Config.Replicas
	durability := "sync " + f.sync
	if f.nats != "" {
		durability = fmt.Sprintf("streams replicated R%d", replicas)
	}
	fmt.Fprintf(out, "refundledger serving (data %s, signature check %s, %s)\n", f.data, verifier.Mode(), durability)
	fmt.Fprintf(out, "  callbacks  %s\n", cbURL)
	fmt.Fprintf(out, "  admin      http://%s/v1/status\n", adminLn.Addr())
	fmt.Fprintf(out, "  nats       %s (%s, streams R%d)\n", conn.URL, natsKind, replicas)
	unsigned := ""
	if verifier.Mode() == ingest.ModeEnforce {
		unsigned = "   # unsigned: 401 while signatures are enforced"
	}
	fmt.Fprintf(out, "try:\n  curl -s -X POST --data-binary @testdata/xportcn/1688-refund-refundonly-success.json %s%s\n", cbURL, unsigned)
	fmt.Fprintf(out, "  curl -s http://%s/v1/refunds/1688/TQ142969441872889407\n", adminLn.Addr())

	var runErr error
	select {
	case <-ctx.Done():
	case err := <-srvErr:
		runErr = fmt.Errorf("listener: %w", err)
	case err := <-bg.failed:
		runErr = fmt.Errorf("projector or relay stopped: %w", err)
	}
	log.Info("shutting down")
	shCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	// Stop accepting callbacks and let in-flight ones finish their publish.
	if err := cbSrv.Shutdown(shCtx); err != nil {
		runErr = errors.Join(runErr, fmt.Errorf("callback listener shutdown: %w", err))
	}
	if err := h.Close(shCtx); err != nil {
		runErr = errors.Join(runErr, err)
	}
	if err := bg.stop(); err != nil && runErr == nil {
		runErr = err
	}
	if err := adminSrv.Shutdown(shCtx); err != nil {
		runErr = errors.Join(runErr, fmt.Errorf("admin listener shutdown: %w", err))
	}
	return runErr
}

// embeddedOptions are the embedded NATS server's settings from the flags.
func embeddedOptions(f serveFlags) (ingest.EmbeddedOptions, error) {
	var opts ingest.EmbeddedOptions
	host, portStr, err := net.SplitHostPort(f.natsListen)
	if err != nil {
		return opts, fmt.Errorf("--nats-listen %q: %w", f.natsListen, err)
	}
	port, err := strconv.Atoi(portStr)
	if err != nil {
		return opts, fmt.Errorf("--nats-listen %q: port: %w", f.natsListen, err)
	}
	if port == 0 {
		port = server.RANDOM_PORT
	}
	opts = ingest.EmbeddedOptions{StoreDir: filepath.Join(f.data, "nats"), Host: host, Port: port}
	switch f.sync {
	case "always":
		opts.SyncAlways = true
	case "interval":
		opts.SyncInterval = time.Second
	default:
		return opts, fmt.Errorf("--sync %q: want always or interval", f.sync)
	}
	return opts, nil
}
