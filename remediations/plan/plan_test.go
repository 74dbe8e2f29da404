package plan_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bucketguard/bucketguard/docs/golden"
	"github.com/bucketguard/bucketguard/events"
	"github.com/bucketguard/bucketguard/remediations/config"
	"github.com/bucketguard/bucketguard/remediations/plan"
	"github.com/bucketguard/bucketguard/remediations/posture"
)

var update = flag.Bool("update", false, "rewrite golden files")

// planCase is one testdata/<case>.posture.json: a posture, the
// environment the configuration is parsed from, and the triggering event.
type planCase struct {
	Now         time.Time         `json:"now"`
	Env         map[string]string `json:"env"`
	Event       events.Name       `json:"event"`
	Actor       string            `json:"actor"`
	RequestTags map[string]string `json:"request_tags"`
	Posture     posture.Posture   `json:"posture"`
}

// TestPlanGolden plans each posture and compares with <case>.plan.golden.
// Run with -update to rewrite them, then review the diff like code.
func TestPlanGolden(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join("testdata", "*.posture.json"))
	if len(files) < 15 {
		t.Fatalf("only %d plan cases", len(files))
	}
	for _, file := range files {
		name := strings.TrimSuffix(filepath.Base(file), ".posture.json")
		t.Run(name, func(t *testing.T) {
			raw, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			var c planCase
			dec := json.NewDecoder(bytes.NewReader(raw))
			dec.DisallowUnknownFields()
			if err := dec.Decode(&c); err != nil {
				t.Fatalf("decode %s: %v", file, err)
			}
			cfg, err := config.FromEnv(config.Lookup(c.Env))
			if err != nil {
				t.Fatalf("config: %v", err)
			}
			p := plan.New(c.Posture, plan.Input{Config: cfg, Now: c.Now, Event: c.Event, Actor: c.Actor, RequestTags: c.RequestTags})
			got, err := json.MarshalIndent(p, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, '\n')
			golden.File(t, filepath.Join("testdata", name+".plan.golden"), got, *update)
			// Pure: the same input plans the same way.
			again, _ := json.MarshalIndent(plan.New(c.Posture, plan.Input{Config: cfg, Now: c.Now, Event: c.Event, Actor: c.Actor, RequestTags: c.RequestTags}), "", "  ")
			if !bytes.Equal(append(again, '\n'), got) {
				t.Error("planning the same posture twice gave two plans")
			}
		})
	}
}
