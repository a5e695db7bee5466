package awscosttest

import (
	"fmt"
	"slices"

	"github.com/383project/opsbot/integrations"
)

// Expression is Cost Explorer's Filter as it arrives on the wire.
type Expression struct {
	And            []Expression `json:",omitempty"`
	Or             []Expression `json:",omitempty"`
	Not            *Expression  `json:",omitempty"`
	Dimensions     *Values      `json:",omitempty"`
	Tags           *Values      `json:",omitempty"`
	CostCategories *Values      `json:",omitempty"`
}

// Values is a DimensionValues, TagValues or CostCategoryValues.
type Values struct {
	Key          string
	Values       []string
	MatchOptions []string `json:",omitempty"`
}

// DateInterval is a TimePeriod ("2006-01-02" dates, End exclusive).
type DateInterval struct {
	Start, End string
}

// validate checks e as Cost Explorer does: exactly one operand per
// expression, And/Or with at least two; it also refuses what the fake does
// not model (other dimensions, cost categories, match options but EQUALS).
func (e *Expression) validate() error {
	n := 0
	for _, set := range []bool{len(e.And) > 0, len(e.Or) > 0, e.Not != nil, e.Dimensions != nil, e.Tags != nil, e.CostCategories != nil} {
		if set {
			n++
		}
	}
	if n != 1 {
		return fmt.Errorf("an expression has %d operands; it must have exactly one of And, Or, Not, Dimensions, Tags, CostCategories", n)
	}
	switch {
	case len(e.And) == 1 || len(e.Or) == 1:
		return fmt.Errorf("an And or Or needs at least two expressions")
	case e.CostCategories != nil:
		return fmt.Errorf("the fake does not model CostCategories")
	case e.Dimensions != nil && e.Dimensions.Key != "LINKED_ACCOUNT" && e.Dimensions.Key != "SERVICE":
		return fmt.Errorf("the fake models only the LINKED_ACCOUNT and SERVICE dimensions, not %q", e.Dimensions.Key)
	case e.Tags != nil && e.Tags.Key == "":
		return fmt.Errorf("a Tags operand needs a Key")
	}
	for _, v := range []*Values{e.Dimensions, e.Tags} {
		if v == nil {
			continue
		}
		if len(v.Values) == 0 {
			return fmt.Errorf("%s needs Values", v.Key)
		}
		for _, m := range v.MatchOptions {
			if m != "EQUALS" && m != "CASE_SENSITIVE" {
				return fmt.Errorf("the fake models only MatchOptions EQUALS, not %q", m)
			}
		}
	}
	for _, sub := range slices.Concat(e.And, e.Or) {
		if err := sub.validate(); err != nil {
			return err
		}
	}
	if e.Not != nil {
		return e.Not.validate()
	}
	return nil
}

// matches reports whether the cost of service in scope passes e (nil: all).
func (e *Expression) matches(scope integrations.CostScope, service string) bool {
	switch {
	case e == nil:
		return true
	case len(e.And) > 0:
		for _, sub := range e.And {
			if !sub.matches(scope, service) {
				return false
			}
		}
		return true
	case len(e.Or) > 0:
		return slices.ContainsFunc(e.Or, func(sub Expression) bool { return sub.matches(scope, service) })
	case e.Not != nil:
		return !e.Not.matches(scope, service)
	case e.Dimensions != nil && e.Dimensions.Key == "LINKED_ACCOUNT":
		return scope.LinkedAccount != "" && slices.Contains(e.Dimensions.Values, scope.LinkedAccount)
	case e.Dimensions != nil:
		return slices.Contains(e.Dimensions.Values, service)
	case e.Tags != nil:
		return scope.TagKey == e.Tags.Key && slices.Contains(e.Tags.Values, scope.TagValue)
	}
	return false
}
