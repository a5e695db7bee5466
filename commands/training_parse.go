package commands

import (
	"strings"
	"time"
	"unicode/utf8"
)

const trainingRecordExample = "/ops training record @alice owasp-top-10 2026-03-14 certificate https://training.example/cert/123"

// Limits of a recorded training.
const (
	maxTrainingCourse   = 100
	maxTrainingEvidence = 500
)

// TrainingRecordArgs are the words of `training record`.
type TrainingRecordArgs struct {
	User     string // the mention or @name, as typed
	Course   string
	Date     time.Time // midnight UTC of the day
	Evidence string
}

// ParseTrainingRecord reads `@user <course> <YYYY-MM-DD> <evidence...>`
// (the words after "record"). The date is a calendar day, not after today
// in loc; evidence is required. Errors are *UserError with an example.
func ParseTrainingRecord(args []string, now time.Time, loc *time.Location) (TrainingRecordArgs, error) {
	if loc == nil {
		loc = time.UTC
	}
	if len(args) < 4 {
		return TrainingRecordArgs{}, userErrorf(trainingRecordExample, "`training record` needs a person, a course, the date it was completed (YYYY-MM-DD) and the evidence (a certificate link or a note).")
	}
	a := TrainingRecordArgs{User: args[0], Course: args[1], Evidence: strings.TrimSpace(strings.Join(args[3:], " "))}
	if !utf8.ValidString(a.Course) || utf8.RuneCountInString(a.Course) > maxTrainingCourse {
		return TrainingRecordArgs{}, userErrorf(trainingRecordExample, "The course name is too long (at most %d characters).", maxTrainingCourse)
	}
	d, err := time.Parse(time.DateOnly, args[2])
	if err != nil {
		return TrainingRecordArgs{}, userErrorf(trainingRecordExample, "%q is not a date: write it as YYYY-MM-DD, e.g. 2026-03-14.", Escape(truncate(args[2], 30)))
	}
	today := now.In(loc)
	todayDate := time.Date(today.Year(), today.Month(), today.Day(), 0, 0, 0, 0, time.UTC)
	if d.After(todayDate) {
		return TrainingRecordArgs{}, userErrorf(trainingRecordExample, "%s is in the future: record training once it is done.", d.Format(time.DateOnly))
	}
	if d.Year() < 2000 {
		return TrainingRecordArgs{}, userErrorf(trainingRecordExample, "%s is too long ago to count.", d.Format(time.DateOnly))
	}
	a.Date = d
	if a.Evidence == "" || !utf8.ValidString(a.Evidence) {
		return TrainingRecordArgs{}, userErrorf(trainingRecordExample, "Say what shows it was done: a certificate link or a note.")
	}
	if utf8.RuneCountInString(a.Evidence) > maxTrainingEvidence {
		return TrainingRecordArgs{}, userErrorf(trainingRecordExample, "The evidence is too long (at most %d characters): give a link.", maxTrainingEvidence)
	}
	return a, nil
}
