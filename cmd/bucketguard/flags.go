package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
)

var errHelp = errors.New("help")

// flags parses a subcommand's flags. -h/--help asks for its usage.
func flags(name string, args []string, define func(*flag.FlagSet)) ([]string, error) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	if define != nil {
		define(fs)
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil, errHelp
		}
		return nil, invalid("%v", err)
	}
	return fs.Args(), nil
}

// input reads FILE, or stdin for "-". The input is capped: no legitimate
// policy, ACL or event comes near 4 MiB.
func input(c *cli, args []string, what string) ([]byte, error) {
	if len(args) != 1 {
		return nil, invalid("want one %s (a file, or - for stdin), got %d arguments", what, len(args))
	}
	var r io.Reader
	if args[0] == "-" {
		r = c.stdin
	} else {
		f, err := os.Open(args[0])
		if err != nil {
			return nil, invalid("%v", err)
		}
		defer f.Close()
		r = f
	}
	const max = 4 << 20
	b, err := io.ReadAll(io.LimitReader(r, max+1))
	if err != nil {
		return nil, invalid("read %s: %v", args[0], err)
	}
	if len(b) > max {
		return nil, invalid("%s is larger than %d bytes", args[0], max)
	}
	if len(bytes.TrimSpace(b)) == 0 {
		return nil, invalid("%s is empty", args[0])
	}
	return b, nil
}

func printJSON(w io.Writer, v any) error {
	b, err := marshalIndent(v)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "%s\n", b)
	return err
}
