package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"
)

// progress shows buckets done of those listed, the rate and the ETA: one
// line redrawn on a terminal, plain lines every few seconds otherwise. The
// total is the number listed so far, marked "+" while more pages follow, so
// that the buckets are listed once, as they are evaluated.
type progress struct {
	// label and unit name the line: "scan" and "buckets" unless set.
	label, unit string
	w           io.Writer
	tty         bool
	now         func() time.Time
	start       time.Time
	lastLine    time.Time

	mu       sync.Mutex
	n        int  // buckets done
	base     int  // buckets listed in the regions before this one
	listedN  int  // buckets listed in this region so far
	more     bool // more pages follow
	finished bool
}

func newProgress(w io.Writer, now func() time.Time) *progress {
	tty := false
	if f, ok := w.(*os.File); ok {
		if fi, err := f.Stat(); err == nil && fi.Mode()&os.ModeCharDevice != 0 {
			tty = true
		}
	}
	return &progress{label: "scan", unit: "buckets", w: w, tty: tty, now: now, start: now(), lastLine: now()}
}

// listed is sweep.Options.Listed.
func (p *progress) listed(n int, more bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.listedN, p.more = n, more
}

// nextRegion ends the current region's listing, returning how many buckets
// it listed and whether pages were left unlisted (a stop), and starts
// counting the next one.
func (p *progress) nextRegion() (listed int, more bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	listed, more = p.listedN, p.more
	p.base += p.listedN
	p.listedN, p.more = 0, false
	return listed, more
}

func (p *progress) step() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.n++
	total := p.base + p.listedN
	switch {
	case p.tty:
		p.draw("\r", total)
	case p.now().Sub(p.lastLine) >= 5*time.Second || (p.n == total && !p.more):
		p.lastLine = p.now()
		p.draw("", total)
		fmt.Fprintln(p.w)
	}
}

func (p *progress) draw(prefix string, total int) {
	el := p.now().Sub(p.start)
	rate := float64(p.n) / max(el.Seconds(), 0.001)
	eta, plus := "?", ""
	if p.more {
		plus = "+"
	} else if rate > 0 && total >= p.n {
		eta = (time.Duration(float64(total-p.n)/rate) * time.Second).Round(time.Second).String()
	}
	bar := ""
	if p.tty && total > 0 {
		const width = 30
		filled := min(p.n*width/total, width)
		bar = "[" + strings.Repeat("=", filled) + strings.Repeat(" ", width-filled) + "] "
	}
	fmt.Fprintf(p.w, "%s%s: %s%d/%d%s %s, %.1f/s, ETA %s   ", prefix, p.label, bar, p.n, total, plus, p.unit, rate, eta)
}

func (p *progress) done() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.tty && !p.finished {
		fmt.Fprintln(p.w)
	}
	p.finished = true
}
