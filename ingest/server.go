package ingest

import (
	"net/http"
	"time"

	"refundledger/proto"
)

// CallbackPath is where the callback listener takes Xportcn's callbacks.
const CallbackPath = "/callbacks/xportcn"

// Routes routes the callback listener: h at CallbackPath, and for any other
// path a 404 in the one JSON error shape.
func Routes(h http.Handler) http.Handler {
	mux := http.NewServeMux()
	mux.Handle(CallbackPath, h)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		proto.WriteError(w, http.StatusNotFound, proto.CodeNotFound, "no such endpoint: "+r.Method+" "+r.URL.Path+" (callbacks are posted to "+CallbackPath+")")
	})
	return mux
}

// Timeouts and limits of the public listener returned by NewHTTPServer.
const (
	ServerReadHeaderTimeout = 2 * time.Second // request line and headers
	ServerReadTimeout       = 5 * time.Second // whole request, headers and body
	// From the end of the headers to the end of the answer: longer than the
	// body's read timeout plus the publish's, so that a client too slow to
	// send its body still gets its 408, and a slow publish its 503.
	ServerWriteTimeout   = ServerReadTimeout + DefaultPublishTimeout + 2*time.Second
	ServerIdleTimeout    = 60 * time.Second // keep-alive between requests
	ServerMaxHeaderBytes = 16 << 10         // bytes; Xportcn sends five short headers
)

// NewHTTPServer returns a server for a public webhook listener: a slow or
// idle client is cut off (ServerReadHeaderTimeout, ServerReadTimeout,
// ServerWriteTimeout, ServerIdleTimeout) and headers are bounded
// (ServerMaxHeaderBytes). Xportcn gives up after 1000 ms, so a request that
// takes seconds to arrive is not worth waiting for. Fields may be adjusted
// before the server is started.
func NewHTTPServer(addr string, h http.Handler) *http.Server {
	return &http.Server{
		Addr:              addr,
		Handler:           h,
		ReadHeaderTimeout: ServerReadHeaderTimeout,
		ReadTimeout:       ServerReadTimeout,
		WriteTimeout:      ServerWriteTimeout,
		IdleTimeout:       ServerIdleTimeout,
		MaxHeaderBytes:    ServerMaxHeaderBytes,
	}
}
