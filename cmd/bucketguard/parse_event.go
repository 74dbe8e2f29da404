package main

import (
	"context"
	"flag"

	"github.com/bucketguard/bucketguard/events"
)

type eventJSON struct {
	Bucket     string `json:"bucket"`
	Account    string `json:"account"`
	Region     string `json:"region"`
	EventName  string `json:"event_name"`
	EventID    string `json:"event_id"`
	Actor      string `json:"actor"`
	SourceIP   string `json:"source_ip"`
	Skip       bool   `json:"skip"`
	SkipReason string `json:"skip_reason"`
}

func parseEvent(_ context.Context, c *cli, args []string) error {
	var self []events.Role
	args, err := flags("parse-event", args, func(fs *flag.FlagSet) {
		fs.Func("self-role", "bucketguard's own role ARN (repeatable, or comma-separated); its changes are skipped", func(v string) error {
			roles, err := events.ParseRoles(v)
			self = append(self, roles...)
			return err
		})
	})
	if err != nil {
		return err
	}
	b, err := input(c, args, "event")
	if err != nil {
		return err
	}
	ch, err := events.Parse(b)
	if err != nil {
		return invalid("%v", err)
	}
	reason := ch.SkipReason(self...)
	return printJSON(c.stdout, eventJSON{Bucket: ch.Bucket, Account: ch.Account, Region: ch.Region, EventName: string(ch.Name),
		EventID: ch.EventID, Actor: ch.Actor.String(), SourceIP: ch.SourceIP, Skip: reason != "", SkipReason: reason})
}
