package main

import (
	"context"
	"errors"
	"fmt"
	"syscall"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"refundledger/ingest"
)

// natsConn is a JetStream connection, and the embedded server behind it when
// the command started one.
type natsConn struct {
	URL string
	JS  jetstream.JetStream
	nc  *nats.Conn
	ns  *server.Server
}

// connect connects to url, or, when url is "", starts an embedded server
// with emb (its store, port and fsync) and connects to it. name says who
// connects, in the server's connection list.
func connect(url string, emb ingest.EmbeddedOptions, name string, jsOpts ...jetstream.JetStreamOpt) (*natsConn, error) {
	c := &natsConn{URL: url}
	if url == "" {
		ns, err := ingest.StartEmbeddedNATS(emb)
		if errors.Is(err, syscall.EADDRINUSE) {
			return nil, fmt.Errorf("%w (another NATS server or refundledger serve has this port: choose another with --nats-listen, 127.0.0.1:0 for any free one)", err)
		}
		if err != nil {
			return nil, err
		}
		c.ns, c.URL = ns, ns.ClientURL()
	}
	nc, err := nats.Connect(c.URL, nats.Name(name), nats.MaxReconnects(-1))
	if err != nil {
		c.Close()
		return nil, fmt.Errorf("connect to NATS %s: %w", c.URL, err)
	}
	c.nc = nc
	if c.JS, err = jetstream.New(nc, jsOpts...); err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

// Close closes the connection and stops the embedded server, if any.
func (c *natsConn) Close() {
	if c.nc != nil {
		c.nc.Close()
	}
	if c.ns != nil {
		c.ns.Shutdown()
		c.ns.WaitForShutdown()
	}
}

// callbacks returns the callback stream, which must exist (an ingester
// creates it).
func (c *natsConn) callbacks(ctx context.Context) (jetstream.Stream, error) {
	s, err := c.JS.Stream(ctx, ingest.StreamName)
	if err != nil {
		return nil, fmt.Errorf("stream %s on %s: %w", ingest.StreamName, c.URL, err)
	}
	return s, nil
}
