package main

import (
	"context"
	"errors"
	"flag"
	"fmt"

	"github.com/bucketguard/bucketguard/events"
	"github.com/bucketguard/bucketguard/remediations/config"
	"github.com/bucketguard/bucketguard/remediations/contract"
	"github.com/bucketguard/bucketguard/remediations/handler"
	"github.com/bucketguard/bucketguard/remediations/startup"
)

type replayJSON struct {
	Skip      string            `json:"skip,omitempty"`
	MessageID string            `json:"message_id,omitempty"`
	Delivery  contract.Delivery `json:"delivery,omitempty"`
	*resultJSON
}

// replay runs a saved event through the remediate function's own handler.
func replay(ctx context.Context, c *cli, args []string) error {
	var asJSON, dryRun bool
	var function string
	args, err := flags("replay", args, func(fs *flag.FlagSet) {
		fs.BoolVar(&asJSON, "json", false, "print JSON")
		fs.BoolVar(&dryRun, "dry-run", false, "plan and print; write and publish nothing")
		fs.StringVar(&function, "function", "", "the remediate function's name: skip only its sessions and the sweep's (BUCKETGUARD_SWEEP_FUNCTION), as the function does")
	})
	if err != nil {
		return err
	}
	raw, err := input(c, args, "event file")
	if err != nil {
		return err
	}
	change, err := events.Parse(raw)
	if err != nil {
		return invalid("%v", err)
	}
	d, err := c.aws(ctx)
	if err != nil {
		return err
	}
	mode := d.Config.Mode
	if dryRun {
		mode = config.Notify
	}
	// The bucket is read in the event's region, as the function of that
	// region's stack would.
	// Without --function every session of the self roles is skipped; the
	// deployed function skips only its own and the sweep's.
	self := d.Config.SelfRoles
	if function != "" {
		self = events.Pinned(self, function, startup.FunctionName(d.Config.SweepFunction))
	}
	h := &handler.Handler{Incidents: d.incidents(mode, change.Region, !dryRun), Self: self, Log: d.Log}
	rep, runErr := h.Process(ctx, raw)
	if errors.Is(runErr, events.ErrMalformed) {
		return invalid("%v", runErr)
	}
	switch {
	case asJSON:
		out := replayJSON{Skip: rep.Skip, MessageID: rep.MessageID, Delivery: rep.Delivery}
		if rep.Result != nil {
			out.resultJSON = &resultJSON{Result: *rep.Result, Posture: rep.Result.Before}
		}
		err = printJSON(c.stdout, out)
	case rep.Skip != "":
		_, err = fmt.Fprintf(c.stdout, "skipped: %s\n", rep.Skip)
	case rep.Result != nil:
		err = show(c, *rep.Result, false, rep.MessageID)
	}
	if err != nil {
		return err
	}
	return runErr
}
