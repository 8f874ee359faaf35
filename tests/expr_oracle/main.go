// Command expr_oracle puts each row of the condition corpus (tests/data/conditions/corpus.tsv) to expr
// itself, with the environment Argo Rollouts gives a condition (result, asInt, asFloat, isNaN, isInf, isNil,
// default), and reports every row where expr's answer is not the row's expected one. Rows marked as a
// deliberate difference, or as needing an expr newer than the one built against, are counted and skipped.
//
// Usage: expr_oracle corpus.tsv
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/antonmedv/expr"
)

const (
	differsMark = "differs: "
	newerMark   = "needs expr > 1.8.9: "
)

// specialNumber reads the strings Prometheus writes for NaN and the infinities, as Sluice's result form does.
func specialNumber(s string) (float64, bool) {
	switch s {
	case "NaN":
		return math.NaN(), true
	case "+Inf", "Inf":
		return math.Inf(1), true
	case "-Inf":
		return math.Inf(-1), true
	}
	return 0, false
}

// quoteBareSpecials puts quotes around NaN, Inf, +Inf and -Inf written outside JSON strings.
func quoteBareSpecials(text string) string {
	var b strings.Builder
	inString := false
	for i := 0; i < len(text); i++ {
		c := text[i]
		if inString {
			b.WriteByte(c)
			if c == '\\' && i+1 < len(text) {
				i++
				b.WriteByte(text[i])
			} else if c == '"' {
				inString = false
			}
			continue
		}
		if c == '"' {
			inString = true
			b.WriteByte(c)
			continue
		}
		quoted := false
		for _, word := range []string{"+Inf", "-Inf", "NaN", "Inf"} {
			if strings.HasPrefix(text[i:], word) {
				b.WriteString(`"` + word + `"`)
				i += len(word) - 1
				quoted = true
				break
			}
		}
		if !quoted {
			b.WriteByte(c)
		}
	}
	return b.String()
}

// nested turns a decoded JSON value inside an object into what Argo's web provider hands over, with the
// special number strings read as numbers (as Sluice's result form reads them).
func nested(v interface{}) interface{} {
	switch t := v.(type) {
	case string:
		if f, ok := specialNumber(t); ok {
			return f
		}
	case []interface{}:
		for i := range t {
			t[i] = nested(t[i])
		}
	case map[string]interface{}:
		for k := range t {
			t[k] = nested(t[k])
		}
	}
	return v
}

// resultValue turns a row's result JSON into the value Argo's providers give: a number as float64, a list of
// numbers as []float64 (a Prometheus vector), an object or any other list as the web provider's decoded JSON.
func resultValue(text string) (interface{}, error) {
	var v interface{}
	if err := json.Unmarshal([]byte(quoteBareSpecials(text)), &v); err != nil {
		return nil, err
	}
	v = nested(v)
	if list, ok := v.([]interface{}); ok {
		numbers := make([]float64, 0, len(list))
		for _, item := range list {
			n, isNumber := item.(float64)
			if !isNumber {
				return list, nil
			}
			numbers = append(numbers, n)
		}
		return numbers, nil
	}
	return v, nil
}

// The functions Argo Rollouts adds to a condition's environment, with its semantics: isNil and default look at
// the whole result whatever they are given; asInt and asFloat panic on what they cannot convert.
func isNil(v interface{}) bool {
	if v == nil {
		return true
	}
	r := reflect.ValueOf(v)
	switch r.Kind() {
	case reflect.Ptr, reflect.Map, reflect.Slice, reflect.Interface:
		return r.IsNil()
	}
	return false
}

func asInt(in interface{}) int64 {
	switch i := in.(type) {
	case float64:
		return int64(i)
	case float32:
		return int64(i)
	case int64:
		return i
	case int32:
		return int64(i)
	case int:
		return int64(i)
	case string:
		n, err := strconv.ParseInt(i, 10, 64)
		if err != nil {
			panic(err)
		}
		return n
	}
	panic(fmt.Sprintf("asInt: invalid type %T", in))
}

func asFloat(in interface{}) float64 {
	switch i := in.(type) {
	case float64:
		return i
	case float32:
		return float64(i)
	case int64:
		return float64(i)
	case int32:
		return float64(i)
	case int:
		return float64(i)
	case string:
		f, err := strconv.ParseFloat(i, 64)
		if err != nil {
			panic(err)
		}
		return f
	}
	panic(fmt.Sprintf("asFloat: invalid type %T", in))
}

// evalCondition answers "true", "false" or "error: ..." as Argo's EvalCondition does: a condition that does
// not give a bool is an error.
func evalCondition(result interface{}, condition string) (answer string) {
	defer func() {
		if r := recover(); r != nil {
			answer = fmt.Sprintf("error: panic: %v", r)
		}
	}()
	env := map[string]interface{}{
		"result":  result,
		"asInt":   asInt,
		"asFloat": asFloat,
		"isNaN":   math.IsNaN,
		"isInf":   func(f float64) bool { return math.IsInf(f, 0) },
		"isNil":   func(interface{}) bool { return isNil(result) },
		"default": func(_ interface{}, d interface{}) interface{} {
			if isNil(result) {
				return d
			}
			return result
		},
	}
	program, err := expr.Compile(condition, expr.Env(env))
	if err != nil {
		return "error: compile: " + strings.ReplaceAll(err.Error(), "\n", " | ")
	}
	out, err := expr.Run(program, env)
	if err != nil {
		return "error: " + strings.ReplaceAll(err.Error(), "\n", " | ")
	}
	if b, ok := out.(bool); ok {
		return strconv.FormatBool(b)
	}
	return fmt.Sprintf("error: expected bool, but got %T", out)
}

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: expr_oracle corpus.tsv")
		os.Exit(2)
	}
	file, err := os.Open(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	defer file.Close()
	start := time.Now()
	scanner := bufio.NewScanner(file)
	line, checked, differs, newer, wrong := 0, 0, 0, 0, 0
	header := true
	for scanner.Scan() {
		line++
		text := scanner.Text()
		if text == "" || strings.HasPrefix(text, "#") {
			continue
		}
		fields := strings.Split(text, "\t")
		if len(fields) != 5 {
			fmt.Printf("corpus.tsv:%d: %d fields, want 5\n", line, len(fields))
			wrong++
			continue
		}
		if header {
			header = false
			continue
		}
		condition, resultText, expected, mark := fields[1], fields[2], fields[3], fields[4]
		switch {
		case strings.HasPrefix(mark, differsMark):
			differs++
			continue
		case strings.HasPrefix(mark, newerMark):
			newer++
			continue
		case mark != "":
			fmt.Printf("corpus.tsv:%d: unknown expr column %q\n", line, mark)
			wrong++
			continue
		}
		checked++
		result, err := resultValue(resultText)
		got := ""
		if err != nil {
			got = "error: the result: " + err.Error()
		} else {
			got = evalCondition(result, condition)
		}
		wantError := strings.HasPrefix(expected, "error: ") || strings.HasPrefix(expected, "compile: ")
		if (wantError && strings.HasPrefix(got, "error: ")) || got == expected {
			continue
		}
		wrong++
		fmt.Printf("corpus.tsv:%d: %s    result %s\n    Sluice: %s\n    expr:   %s\n", line, condition, resultText,
			expected, got)
	}
	if err := scanner.Err(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	fmt.Printf("%d rows put to expr 1.8.9 in %v: %d agree, %d differ; skipped: %d deliberate differences, "+
		"%d that need a newer expr\n", checked, time.Since(start).Round(time.Millisecond), checked-wrong, wrong,
		differs, newer)
	if wrong > 0 {
		os.Exit(1)
	}
}
