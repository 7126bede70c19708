package simulate

// Options control a simulation. The zero value of a rate means "never".
type Options struct {
	Seed      uint64  // every random choice derives from it
	Orders    int     // number of orders
	DupRate   float64 // probability that a delivered copy is delivered once more (repeats)
	RetryRate float64 // probability that a message's first push fails and it arrives as retries
	Shuffle   bool    // deliver in random order (within a window), else in delivery-time order
	Now       int64   // epoch ms of the first order; 0 means DefaultNow

	// Lifecycles restricts the refund lifecycles drawn (see Lifecycles); nil
	// means all of them.
	Lifecycles []string
}

// DefaultNow is the base time used when Options.Now is 0: 2026-05-20
// 00:00:00 UTC, in epoch ms.
const DefaultNow int64 = 1779235200000

// Window is how many orders' messages Each shuffles (or sorts) together. A
// message never travels further from its order's neighbours than this.
const Window = 64

// retryDelay is Xportcn's documented gap between push attempts, in ms.
const retryDelay = 30 * 60 * 1000

// maxRetries is Xportcn's documented number of retries.
const maxRetries = 5

func (o Options) now() int64 {
	if o.Now == 0 {
		return DefaultNow
	}
	return o.Now
}
