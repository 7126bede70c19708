package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"syscall"
	"time"

	"github.com/nats-io/nats.go"

	"refundledger/proto"
)

// defaultAdmin is serve's default admin address, where the CLI's read
// commands ask by default.
const defaultAdmin = "http://127.0.0.1:8081"

// adminGet GETs path from a running service's admin listener and decodes the
// JSON answer into v; an error answer becomes an error carrying its message.
func adminGet(ctx context.Context, admin, path string, timeout time.Duration, v any) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	url := strings.TrimSuffix(admin, "/") + path
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		if errors.Is(ctx.Err(), context.Canceled) {
			return err // interrupted: the service is not to blame
		}
		return &unreachableError{what: "the service at " + strings.TrimSuffix(admin, "/"), why: unreachable(err, timeout),
			hint: "is refundledger serve running? --admin says where", err: err}
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		var e proto.ErrorBody
		if json.Unmarshal(body, &e) == nil && e.Error.Message != "" {
			return fmt.Errorf("%s: %s", e.Error.Code, e.Error.Message)
		}
		return fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	return json.Unmarshal(body, v)
}

// unreachableError is a request that got no answer, said for a person:
// what could not be reached, why in a few words, and what to check. It
// wraps the error of the request.
type unreachableError struct {
	what, why, hint string
	err             error
}

func (e *unreachableError) Error() string {
	return fmt.Sprintf("cannot reach %s (%s): %s", e.what, e.why, e.hint)
}

func (e *unreachableError) Unwrap() error { return e.err }

// unreachable says in a few words why a request got no answer: "connection
// refused", "no answer within 10s", "no such host".
func unreachable(err error, timeout time.Duration) string {
	var dns *net.DNSError
	var op *net.OpError
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return fmt.Sprintf("no answer within %s", timeout)
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused"
	case errors.As(err, &dns):
		if dns.IsNotFound {
			return "no such host " + dns.Name
		}
		return dns.Err
	case errors.As(err, &op):
		return op.Err.Error()
	}
	var u *url.Error
	if errors.As(err, &u) {
		return u.Err.Error()
	}
	return err.Error()
}

// natsUnreachable says for a person that no NATS server at url answered,
// with hint for what to check; any other error is returned as it is.
func natsUnreachable(err error, url, hint string) error {
	if !errors.Is(err, nats.ErrNoServers) {
		return err
	}
	return &unreachableError{what: "NATS at " + url, why: "no server answered", hint: hint, err: err}
}
