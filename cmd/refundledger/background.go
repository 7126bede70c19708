package main

import (
	"context"
	"errors"
	"sync"
)

// background runs the service's long-lived workers (projector, relay) under
// one context, apart from the request context so that a shutdown can stop
// them after the listeners.
type background struct {
	failed chan error // receives the first worker that returns early
	stop   func() error
}

// runBackground starts each worker. stop cancels them all, waits for every
// one to return and joins their errors; it may be called more than once.
func runBackground(ctx context.Context, workers ...func(context.Context) error) *background {
	wctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	b := &background{failed: make(chan error, len(workers))}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var errs []error
	for _, w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := w(wctx)
			if wctx.Err() == nil {
				if err == nil {
					err = errors.New("stopped without an error")
				}
				b.failed <- err
			}
			mu.Lock()
			errs = append(errs, err)
			mu.Unlock()
		}()
	}
	b.stop = sync.OnceValue(func() error {
		cancel()
		wg.Wait()
		return errors.Join(errs...)
	})
	return b
}
