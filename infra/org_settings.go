package main

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
)

// OrgSettings is the organization's rollout, from the context key "org":
// `true` for the defaults, or an object (docs/organization.md).
type OrgSettings struct {
	// Enabled adds the organization's stacks to the app.
	Enabled bool
	// Regions the StackSet deploys to, the first being home (the admin
	// stack's); the app's regions by default. Each gets an asset bucket.
	Regions []string
	// Rings are the stack instance groups, deployed in this order.
	Rings []Ring
	// CallAs is DELEGATED_ADMIN (the admin stack in the delegated
	// administrator account) or SELF (in the management account).
	CallAs string
	// Heartbeats adds the central bus and the heartbeat table.
	Heartbeats bool
	// FailureTolerancePercentage and MaxConcurrentPercentage are the
	// StackSet's operation preferences, per region.
	FailureTolerancePercentage int
	MaxConcurrentPercentage    int
}

// Ring is one rollout ring: a stack instance group of its own, its OUs a
// parameter of the admin stack (<Name>OrganizationalUnits), its mode
// another (<Name>Mode), so that a ring runs in notify for a while and
// then enforces by a parameter change.
type Ring struct {
	Name    string
	Mode    string
	Regions []string
}

// DefaultRings: a canary ring that enforces at once, and production,
// which notifies until its mode parameter is changed.
func defaultRings() []Ring {
	return []Ring{{Name: "Canary", Mode: "enforce"}, {Name: "Production", Mode: "notify"}}
}

var ringNameRE = regexp.MustCompile(`^[A-Z][A-Za-z0-9]{0,30}$`)

// ParseOrg reads the "org" context; regions are the app's.
func ParseOrg(v any, regions []string) (OrgSettings, error) {
	o := OrgSettings{CallAs: "DELEGATED_ADMIN", Heartbeats: true, FailureTolerancePercentage: 10, MaxConcurrentPercentage: 25,
		Regions: regions, Rings: defaultRings()}
	var errs []error
	bad := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("context \"org\": %s", fmt.Sprintf(format, args...)))
	}
	switch x := v.(type) {
	case nil:
		return OrgSettings{}, nil
	case bool:
		o.Enabled = x
	case string:
		b, err := strconv.ParseBool(x)
		if err != nil {
			bad("%q is not true, false or an object", x)
		}
		o.Enabled = b
	case map[string]any:
		o.Enabled = true
		if r := list(x["regions"]); len(r) > 0 {
			o.Regions = r
		}
		for _, r := range o.Regions {
			if !regionRE.MatchString(r) {
				bad("region %q is not a region name like eu-west-1", r)
			}
		}
		if c, ok := x["callAs"]; ok {
			o.CallAs, _ = scalar(c)
			if o.CallAs != "DELEGATED_ADMIN" && o.CallAs != "SELF" {
				bad("callAs %q is not DELEGATED_ADMIN or SELF", o.CallAs)
			}
		}
		o.Heartbeats = boolean(x["heartbeats"], "org.heartbeats", true, func(_ string, f string, a ...any) { bad("heartbeats: "+f, a...) })
		for key, dst := range map[string]*int{"failureTolerancePercentage": &o.FailureTolerancePercentage, "maxConcurrentPercentage": &o.MaxConcurrentPercentage} {
			if v, ok := x[key]; ok {
				n, err := integer(v)
				if err != nil || n < 0 || n > 100 {
					bad("%s %v is not a whole number from 0 to 100", key, v)
					continue
				}
				*dst = n
			}
		}
		if rings, ok := x["rings"]; ok {
			o.Rings = nil
			items, _ := rings.([]any)
			if len(items) == 0 {
				bad("rings must be a list of {\"name\": ..., \"mode\": ..., \"regions\": [...]}")
			}
			for _, it := range items {
				m, _ := it.(map[string]any)
				r := Ring{Mode: "notify"}
				r.Name, _ = scalar(m["name"])
				if v, ok := m["mode"]; ok {
					r.Mode, _ = scalar(v)
				}
				r.Regions = list(m["regions"])
				if !ringNameRE.MatchString(r.Name) {
					bad("ring name %q is not a word in CamelCase (it names the ring's parameters)", r.Name)
				}
				if r.Mode != "enforce" && r.Mode != "notify" {
					bad("ring %s: mode %q is not enforce or notify", r.Name, r.Mode)
				}
				o.Rings = append(o.Rings, r)
			}
		}
	default:
		bad("must be true or an object")
	}
	if o.Enabled && len(o.Regions) == 0 {
		bad("no region to deploy to")
	}
	if o.MaxConcurrentPercentage == 0 {
		bad("maxConcurrentPercentage 0 would deploy nothing")
	}
	seen := map[string]bool{}
	for i := range o.Rings {
		if seen[o.Rings[i].Name] {
			bad("ring %s is listed twice", o.Rings[i].Name)
		}
		seen[o.Rings[i].Name] = true
		if len(o.Rings[i].Regions) == 0 {
			o.Rings[i].Regions = o.Regions
		}
		for _, r := range o.Rings[i].Regions {
			if !slices.Contains(o.Regions, r) {
				bad("ring %s: region %q has no asset bucket (add it to the org's regions)", o.Rings[i].Name, r)
			}
		}
	}
	return o, errors.Join(errs...)
}
