package startup_test

import (
	"testing"

	"github.com/bucketguard/bucketguard/events"
	"github.com/bucketguard/bucketguard/remediations/config"
	"github.com/bucketguard/bucketguard/remediations/startup"
)

// In Lambda, the remediate function skips only its own sessions and the
// sweep's (named after the functions); a function someone else gave
// bucketguard's role is not skipped. Outside Lambda the roles stay as
// configured.
func TestSelfSessionsArePinnedToTheFunctions(t *testing.T) {
	roles, err := events.ParseRoles("arn:aws:iam::111122223333:role/BucketGuard-RemediateRole,arn:aws:iam::111122223333:role/BucketGuard-SweepRole")
	if err != nil {
		t.Fatal(err)
	}
	cfg := config.Default()
	cfg.SelfRoles = roles
	cfg.SweepFunction = "arn:aws:lambda:eu-west-1:111122223333:function:BucketGuard-Sweep-X1"
	env := map[string]string{"AWS_LAMBDA_FUNCTION_NAME": "BucketGuard-Remediate-Y2"}
	self := startup.SelfSessions(cfg, func(k string) (string, bool) { v, ok := env[k]; return v, ok })
	made := func(arn string) bool {
		for _, r := range self {
			if r.Made(events.Actor{Type: "AssumedRole", ARN: arn}) {
				return true
			}
		}
		return false
	}
	if !made("arn:aws:sts::111122223333:assumed-role/BucketGuard-RemediateRole/BucketGuard-Remediate-Y2") ||
		!made("arn:aws:sts::111122223333:assumed-role/BucketGuard-SweepRole/BucketGuard-Sweep-X1") {
		t.Error("bucketguard's own sessions are not skipped")
	}
	if made("arn:aws:sts::111122223333:assumed-role/BucketGuard-RemediateRole/attacker-function") {
		t.Error("another function with bucketguard's role is skipped")
	}
	outside := startup.SelfSessions(cfg, func(string) (string, bool) { return "", false })
	if len(outside[0].Sessions) != 0 {
		t.Errorf("outside Lambda: sessions %v", outside[0].Sessions)
	}
	noSweep := cfg
	noSweep.SweepFunction = ""
	if got := startup.SelfSessions(noSweep, func(k string) (string, bool) { v, ok := env[k]; return v, ok }); len(got[1].Sessions) != 0 {
		t.Errorf("two roles, the sweep function unnamed: sessions %v", got[1].Sessions)
	}
	single := noSweep
	single.SelfRoles = roles[:1]
	if got := startup.SelfSessions(single, func(k string) (string, bool) { v, ok := env[k]; return v, ok }); len(got[0].Sessions) != 1 {
		t.Errorf("one role, no sweep: sessions %v, want its own function", got[0].Sessions)
	}
	for arn, want := range map[string]string{
		"arn:aws:lambda:eu-west-1:111122223333:function:BucketGuard-Sweep-X1":         "BucketGuard-Sweep-X1",
		"arn:aws:lambda:eu-west-1:111122223333:function:BucketGuard-Sweep-X1:$LATEST": "BucketGuard-Sweep-X1",
		"BucketGuard-Sweep-X1": "BucketGuard-Sweep-X1",
		"":                     "",
	} {
		if got := startup.FunctionName(arn); got != want {
			t.Errorf("FunctionName(%q) = %q, want %q", arn, got, want)
		}
	}
}
