package config

import "fmt"

// Error reports one bad setting value. Its message is a single line such as
//
//	ROUTERLOGGER_WRITER_BATCH="abc": not a whole number (allowed 1 to 100000)
type Error struct {
	// Name is what supplied the value: "--flag-name" or an environment
	// variable's name.
	Name string
	// Value is the value as given, with secrets and URL passwords redacted.
	Value string
	// Reason says what is wrong and what is allowed.
	Reason string
}

// Error returns the one-line message.
func (e *Error) Error() string {
	return fmt.Sprintf("%s=%q: %s", e.Name, e.Value, e.Reason)
}
