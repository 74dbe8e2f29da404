package sweep_test

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/bucketguard/bucketguard/remediations/config"
	"github.com/bucketguard/bucketguard/remediations/emulator"
	"github.com/bucketguard/bucketguard/remediations/fake"
	"github.com/bucketguard/bucketguard/remediations/op"
	"github.com/bucketguard/bucketguard/remediations/sweep"
)

// BenchmarkSweepAtLatency: the sweep as deployed (engine, ledger, alerts)
// over the fakes, every call held 20 ms as a network round trip would be:
// buckets a second and peak RSS, by concurrency, over a mixed account, in
// notify mode (report only: reads, and an alert for the buckets with
// findings) and in enforce mode (the fixes too).
func BenchmarkSweepAtLatency(b *testing.B) {
	const delay = 20 * time.Millisecond
	n := 1000
	if s := os.Getenv("BUCKETGUARD_BENCH_BUCKETS"); s != "" {
		n, _ = strconv.Atoi(s)
	}
	for _, kind := range []string{"report", "fix"} {
		for _, c := range []int{4, 16, 32, 48, 64, 96, 128} {
			b.Run(fmt.Sprintf("%s/c=%d", kind, c), func(b *testing.B) {
				var perSec, rss float64
				for b.Loop() {
					b.StopTimer()
					f := emulator.MixedFake(n)
					f.Delay = func(op.Operation) time.Duration { return delay }
					cfg := config.Default()
					if kind == "report" {
						cfg.Mode = config.Notify
					}
					h := &sweep.Handler{
						Incidents: wire(cfg, f, f.Store()),
						List:      f.S3(),
						Options:   sweep.Options{Region: "eu-west-1", Concurrency: c, PageSize: 1000},
						Log:       quiet,
					}
					emulator.ResetPeakRSS()
					b.StartTimer()
					start := time.Now()
					p, err := h.Part(context.Background(), fake.Account, &sweep.Continuation{Run: "bench"}, quiet)
					if err != nil || p.Tally.Seen != n {
						b.Fatal(err, p.Tally.Seen)
					}
					perSec = float64(n) / time.Since(start).Seconds()
					rss, _ = emulator.PeakRSS("self")
				}
				b.ReportMetric(perSec, "buckets/s")
				b.ReportMetric(rss, "peak-RSS-MiB")
			})
		}
	}
}
