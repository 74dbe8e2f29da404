package sweep_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/bucketguard/bucketguard/remediations/contract"
	"github.com/bucketguard/bucketguard/remediations/sweep"
)

// A start sent by the remediate function after a guarded call is a new run
// at once, whose summary says why it started.
func TestStartIsANewRun(t *testing.T) {
	f := account(3)
	h := handler(f, &invoker{}, nil)
	payload, _ := json.Marshal(contract.SweepStartEvent{Start: &contract.SweepStart{Cause: "mallory called StopLogging on trail (management)", EventID: "ev-1"}})
	if err := h.Handle(lambdaCtx("run-started"), payload); err != nil {
		t.Fatal(err)
	}
	var s sweep.Summary
	for _, p := range f.Published() {
		if p.Attributes["kind"] == contract.KindSummary {
			if err := json.Unmarshal([]byte(jsonMessage(t, p.Message)), &s); err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(p.Message, "outside the schedule") {
				t.Errorf("the summary's text does not say why the run started")
			}
		}
	}
	if s.Run != "run-started" || s.Tally.Seen != 3 || !strings.Contains(s.Cause, "StopLogging") {
		t.Errorf("summary %+v", s)
	}
}
