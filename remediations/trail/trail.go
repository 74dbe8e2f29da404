// Package trail judges whether the account's CloudTrail trails feed
// bucketguard: its rule sees an S3 change only when a trail that is logging
// delivers management write events recorded in the stack's region. The
// judgement (Judge) is pure; Read gets the trails through a small client.
// https://docs.aws.amazon.com/awscloudtrail/latest/userguide/logging-management-events-with-cloudtrail.html
package trail

import (
	"fmt"
	"slices"
	"strings"
)

// Trail is what the judgement needs of one trail.
type Trail struct {
	Name       string `json:"name"`
	ARN        string `json:"arn"`
	HomeRegion string `json:"home_region"`
	// MultiRegion trails log every region; the others their home region.
	MultiRegion  bool `json:"multi_region"`
	Organization bool `json:"organization"`
	// Logging is the trail's status; nil when it could not be read.
	Logging *bool `json:"logging,omitempty"`
	// Selectors are the trail's event selectors; nil when they could not
	// be read.
	Selectors *Selectors `json:"selectors,omitempty"`
	// Unread says what could not be read, and why.
	Unread string `json:"unread,omitempty"`
}

// Selectors are a trail's event selectors: classic or advanced (a trail has
// one kind or the other).
// https://docs.aws.amazon.com/awscloudtrail/latest/APIReference/API_GetEventSelectors.html
type Selectors struct {
	Classic  []Classic  `json:"classic,omitempty"`
	Advanced []Advanced `json:"advanced,omitempty"`
}

// Classic is a classic event selector.
type Classic struct {
	// ReadWriteType is All, ReadOnly or WriteOnly ("" is CloudTrail's
	// default, All).
	ReadWriteType string `json:"read_write_type,omitempty"`
	// IncludeManagementEvents; nil is CloudTrail's default, true.
	IncludeManagementEvents *bool `json:"include_management_events,omitempty"`
}

// Advanced is an advanced event selector: every field selector must match.
type Advanced struct {
	Name   string  `json:"name,omitempty"`
	Fields []Field `json:"fields"`
}

// Field is one field selector of an advanced event selector.
type Field struct {
	Field     string   `json:"field"`
	Equals    []string `json:"equals,omitempty"`
	NotEquals []string `json:"not_equals,omitempty"`
}

// ManagementWrites reports whether some selector delivers management write
// events: a classic selector that includes management events, reading and
// writing or writing only; or an advanced selector on eventCategory
// Management that does not keep read-only events alone. No selector at all
// delivers nothing (CloudTrail always returns at least its default
// selector).
// https://docs.aws.amazon.com/awscloudtrail/latest/userguide/logging-management-events-with-cloudtrail.html
func (s Selectors) ManagementWrites() bool {
	for _, c := range s.Classic {
		rw := c.ReadWriteType
		if (c.IncludeManagementEvents == nil || *c.IncludeManagementEvents) && (rw == "" || rw == "All" || rw == "WriteOnly") {
			return true
		}
	}
	for _, a := range s.Advanced {
		management, writes := false, true
		for _, f := range a.Fields {
			switch f.Field {
			case "eventCategory":
				management = slices.Contains(f.Equals, "Management")
			case "readOnly":
				// readOnly = true keeps reads alone; readOnly != false
				// says the same.
				if (len(f.Equals) > 0 && !slices.Contains(f.Equals, "false")) || slices.Contains(f.NotEquals, "false") {
					writes = false
				}
			}
		}
		if management && writes {
			return true
		}
	}
	return false
}

// Covers reports whether the trail is known to deliver the management
// write events recorded in region; if not, why not.
func (t Trail) Covers(region string) (bool, string) {
	name := t.Name
	if t.Organization {
		name += " (organization trail)"
	}
	switch {
	case !t.MultiRegion && t.HomeRegion != region:
		return false, fmt.Sprintf("%s logs %s only", name, t.HomeRegion)
	case t.Logging == nil || t.Selectors == nil:
		return false, fmt.Sprintf("%s could not be read: %s", name, t.Unread)
	case !*t.Logging:
		return false, name + " is not logging"
	case !t.Selectors.ManagementWrites():
		return false, name + " delivers no management write events (its event selectors)"
	}
	return true, ""
}

// Gap is a region with a stack where no trail is known to deliver
// management write events: bucketguard's rule sees no S3 change there.
type Gap struct {
	Region string `json:"region"`
	// Why says, for each trail, why it does not cover the region.
	Why []string `json:"why"`
}

// Judge returns the regions, of those given, that no trail covers.
func Judge(trails []Trail, regions []string) []Gap {
	var gaps []Gap
	for _, r := range regions {
		g := Gap{Region: r}
		covered := false
		for _, t := range trails {
			ok, why := t.Covers(r)
			if ok {
				covered = true
				break
			}
			g.Why = append(g.Why, why)
		}
		if covered {
			continue
		}
		if len(trails) == 0 {
			g.Why = []string{"the account has no trail"}
		}
		gaps = append(gaps, g)
	}
	return gaps
}

// Describe says the gaps in a few lines, for the operations topic.
func Describe(gaps []Gap) string {
	var b strings.Builder
	for _, g := range gaps {
		fmt.Fprintf(&b, "  %s: %s\n", g.Region, strings.Join(g.Why, "; "))
	}
	return b.String()
}
