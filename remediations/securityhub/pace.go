package securityhub

import (
	"context"
	"sync"
	"time"
)

// Security Hub's quota for BatchImportFindings and for BatchUpdateFindings:
// 10 requests a second, bursts of 30. The SDK's retryer takes what is
// throttled anyway; pacing keeps a 10,000-bucket sweep from being throttled
// in the first place.
// https://docs.aws.amazon.com/securityhub/latest/userguide/securityhub-limits.html
const (
	Rate  = 10
	Burst = 30
)

// pacer is a token bucket: Burst tokens, refilled at Rate a second. A call
// takes a token, or reserves the next one and waits for it, so that calls
// are admitted in order. Ours rather than golang.org/x/time/rate: a dozen
// lines, and a clock the tests drive.
type pacer struct {
	rate, burst float64
	now         func() time.Time
	sleep       func(context.Context, time.Duration) error

	mu     sync.Mutex
	tokens float64
	last   time.Time
}

func newPacer(rate, burst int, now func() time.Time, sleep func(context.Context, time.Duration) error) *pacer {
	return &pacer{rate: float64(rate), burst: float64(burst), tokens: float64(burst), now: now, sleep: sleep}
}

// wait admits one call, or returns the context's error.
func (p *pacer) wait(ctx context.Context) error {
	p.mu.Lock()
	now := p.now()
	if !p.last.IsZero() {
		p.tokens = min(p.burst, p.tokens+now.Sub(p.last).Seconds()*p.rate)
	}
	p.last = now
	p.tokens--
	deficit := -p.tokens
	p.mu.Unlock()
	if deficit <= 0 {
		return nil
	}
	return p.sleep(ctx, time.Duration(deficit/p.rate*float64(time.Second)))
}

// sleep waits for d or the context.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
