package ingest

import (
	"errors"
	"fmt"
	"net"
	"strconv"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

// EmbeddedOptions configure StartEmbeddedNATS.
type EmbeddedOptions struct {
	StoreDir     string        // JetStream store directory (required)
	Host         string        // interface to bind; "" = 127.0.0.1
	Port         int           // 0 picks a free port
	SyncAlways   bool          // fsync every message before the ack
	SyncInterval time.Duration // periodic fsync interval when not SyncAlways; 0 = server default (2 min)
	MaxPayload   int32         // bytes; 0 = 2 MiB, so 1 MiB callbacks plus headers fit
}

// StartEmbeddedNATS starts a single JetStream-enabled nats-server on
// 127.0.0.1 (loopback only, no logging) for tests and benchmarks, and waits
// until it accepts connections. The caller shuts it down
// (Shutdown, then WaitForShutdown); restarting on the same StoreDir and Port
// recovers the stored streams.
func StartEmbeddedNATS(o EmbeddedOptions) (*server.Server, error) {
	if o.StoreDir == "" {
		return nil, errors.New("embedded nats: StoreDir is required")
	}
	port := o.Port
	if port == 0 {
		port = server.RANDOM_PORT
	}
	host := o.Host
	if host == "" {
		host = "127.0.0.1"
	}
	maxPayload := o.MaxPayload
	if maxPayload == 0 {
		maxPayload = 2 << 20
	}
	// nats-server does not report a port it cannot bind: it would only
	// never become ready. Try the address first, to say why at once.
	if port > 0 {
		ln, err := net.Listen("tcp", net.JoinHostPort(host, strconv.Itoa(port)))
		if err != nil {
			return nil, fmt.Errorf("embedded nats: %w", err)
		}
		ln.Close()
	}
	s, err := server.NewServer(&server.Options{
		Host:         host,
		Port:         port,
		JetStream:    true,
		StoreDir:     o.StoreDir,
		SyncAlways:   o.SyncAlways,
		SyncInterval: o.SyncInterval,
		MaxPayload:   maxPayload,
		NoLog:        true,
		NoSigs:       true,
	})
	if err != nil {
		return nil, fmt.Errorf("embedded nats: %w", err)
	}
	go s.Start()
	if !s.ReadyForConnections(10 * time.Second) {
		s.Shutdown()
		return nil, errors.New("embedded nats: not ready within 10s")
	}
	return s, nil
}
