package ingest_test

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"refundledger/ingest"
)

func TestNewHTTPServerLimits(t *testing.T) {
	s := ingest.NewHTTPServer(":0", http.NotFoundHandler())
	if s.ReadHeaderTimeout <= 0 || s.ReadTimeout <= 0 || s.WriteTimeout <= 0 || s.IdleTimeout <= 0 || s.MaxHeaderBytes <= 0 {
		t.Errorf("unbounded server: %+v", s)
	}
	if s.ReadTimeout > time.Minute || s.MaxHeaderBytes > 1<<20 {
		t.Errorf("limits too loose for a public webhook: %v %d", s.ReadTimeout, s.MaxHeaderBytes)
	}
	// The write deadline runs from the end of the headers: it must outlast
	// the body's read deadline and a publish, or the 408 of a slow body and
	// the 503 of a slow publish are cut off with the connection.
	if s.WriteTimeout <= s.ReadTimeout+ingest.DefaultPublishTimeout {
		t.Errorf("write timeout %v ends before a slow body's 408 (read %v, publish %v)",
			s.WriteTimeout, s.ReadTimeout, ingest.DefaultPublishTimeout)
	}
}

// startServer serves h with NewHTTPServer's settings, timeouts shortened:
// headers get timeout, the whole request twice that, and the write deadline
// keeps its proportion to the read deadline.
func startServer(t *testing.T, h http.Handler, timeout time.Duration) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := ingest.NewHTTPServer("", h)
	srv.ReadHeaderTimeout = timeout
	srv.ReadTimeout = 2 * timeout
	srv.WriteTimeout = srv.ReadTimeout * ingest.ServerWriteTimeout / ingest.ServerReadTimeout
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return ln.Addr().String()
}

func TestSlowClients(t *testing.T) {
	env := mustStartNATS(t)
	h := mustNewHandler(t, ingest.Config{JS: env.js})
	const timeout = 200 * time.Millisecond
	addr := startServer(t, h, timeout)

	t.Run("SlowHeadersAreCutOff", func(t *testing.T) {
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		if _, err := io.WriteString(conn, "POST /callbacks/xportcn HTTP/1.1\r\nHost: x\r\n"); err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
		_, err = io.ReadAll(conn) // the server closes the connection
		if err != nil {
			t.Fatalf("connection not closed by the server: %v", err)
		}
		if el := time.Since(start); el > 2*time.Second {
			t.Errorf("closed after %v", el)
		}
	})
	t.Run("SlowBodyIs408AndNothingStored", func(t *testing.T) {
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		body := `{"messageType":"ORDER_CREATE","messageBody":{}}`
		req := "POST /callbacks/xportcn HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n" +
			"Content-Length: " + strconv.Itoa(len(body)) + "\r\n\r\n" + body[:10]
		if _, err := io.WriteString(conn, req); err != nil {
			t.Fatal(err)
		}
		_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			t.Fatalf("no answer: %v", err)
		}
		raw, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		a := decodeAnswer(t, resp.StatusCode, resp.Header, raw, "POST")
		if a.status != http.StatusRequestTimeout || a.err.Error.Code != ingest.CodeRequestTimeout {
			t.Errorf("%d %s", a.status, raw)
		}
		if n := len(env.stored(t)); n != 0 {
			t.Errorf("stored %d", n)
		}
		if h.Stats().ReadTimeout != 1 {
			t.Errorf("stats %+v", h.Stats())
		}
	})
	t.Run("OversizedHeadersAreRefused", func(t *testing.T) {
		req, err := http.NewRequest("POST", "http://"+addr+"/", strings.NewReader("{}"))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("X-Big", strings.Repeat("a", 64<<10))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
			t.Errorf("status %d", resp.StatusCode)
		}
	})
}

// The callback listener answers a path other than CallbackPath with a 404 in
// the one JSON error shape, as the admin listener does, and passes
// CallbackPath to the handler.
func TestRoutesAnswerOtherPathsInTheErrorShape(t *testing.T) {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusTeapot) })
	addr := startServer(t, ingest.Routes(h), time.Second)
	resp, err := http.Post("http://"+addr+"/callbacks/xportcn/x", "application/json", strings.NewReader("{}"))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound || resp.Header.Get("Content-Type") != "application/json" ||
		!strings.Contains(string(b), `"error":{"code":"not_found"`) {
		t.Fatalf("another path: %d %s %s", resp.StatusCode, resp.Header.Get("Content-Type"), b)
	}
	resp, err = http.Post("http://"+addr+ingest.CallbackPath, "application/json", strings.NewReader("{}"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusTeapot {
		t.Fatalf("%s did not reach the handler: %d", ingest.CallbackPath, resp.StatusCode)
	}
}
