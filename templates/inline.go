package templates

import (
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/PuerkitoBio/goquery"
	"github.com/andybalholm/cascadia"
	"github.com/vanng822/css"
	"golang.org/x/net/html"
)

// The CSS inliner: go-premailer's Transform (v1.38.0, MIT, Nguyen Van Nhu;
// premailer.NewOptions(): CSS to width and height attributes, classes
// kept, !important dropped), with the work that depends only on the style
// sheets done once per distinct sheet rather than once per document.
//
// Why not the library itself: a digest is rendered and inlined once per
// distinct article set, and premailer parses the same style sheet, sorts
// its rules and compiles each selector for every document: with 600 article
// sets in a 100k send that was half of the inlining's CPU and an eighth of
// all send-now allocated (docs/benchmarks.md). premailer offers no way to
// pass parsed rules in. What is kept from it, line for line: which style
// elements count, the order and specificity of rules, which rules are left
// over (media queries, pseudo-classes, "*"), how an element's declarations
// merge with its own style attribute, and the leftover style element in the
// head. TestInlineMatchesPremailer holds the output to premailer's, byte for
// byte, on the digest template with generated articles and on hand-made
// sheets (media rules, !important, ids, attribute and invalid selectors,
// style attributes, several style elements); a review fuzzed 1.6 million
// documents against premailer without a difference. The exception is
// premailer's own bookkeeping attribute, pr-el-id: premailer sets it rule
// by rule, so a selector naming it sees it, and takes one already in the
// document as its own (merging two elements, or panicking). Here a
// selector never sees it and one in the document is dropped. Templates do
// not name it and the sanitizer does not let it into articles.

// sheet is what the inliner keeps of one set of style sheets: the rules to
// inline, sorted by specificity, and the leftover CSS.
type sheet struct {
	rules    []inlineRule
	leftover string // the leftover style element's text; "" for none
}

type inlineRule struct {
	match  goquery.Matcher // nil: a selector cascadia cannot compile (premailer matches nothing)
	styles []*css.CSSStyleDeclaration
	spec   specificity
}

// sheets caches parsed style sheets by their text. Documents rendered from
// one template share one; a template whose CSS varies with its data adds
// one per variant, so the cache is emptied when it reaches maxSheets.
var sheets = struct {
	sync.Mutex
	m map[string]*sheet
}{m: map[string]*sheet{}}

const maxSheets = 32

// markAttr is premailer's element id attribute.
const markAttr = "pr-el-id"

var (
	unmergableSelector   = regexp.MustCompile(`(?i)\:{1,2}(visited|active|hover|focus|link|root|in-range|invalid|valid|after|before|selection|target|first\-(line|letter))|^\@`)
	notSupportedSelector = regexp.MustCompile(`(?i)\:(checked|disabled|enabled|lang)`)
	typeSelectorRegex    = regexp.MustCompile(`(^|\s)\w`)
)

// InlineCSS moves an HTML mail's CSS into style attributes, so mail clients
// that drop style elements still render it; rules that cannot be inlined,
// such as media queries, stay in a style element.
func InlineCSS(doc string) (string, error) {
	d, err := goquery.NewDocumentFromReader(strings.NewReader(doc))
	if err != nil {
		return "", fmt.Errorf("inline CSS: %w", err)
	}
	var texts []string
	d.Find("style:not([data-premailer='ignore'])").Each(func(_ int, s *goquery.Selection) {
		if media, exist := s.Attr("media"); exist && media != "all" {
			return
		}
		texts = append(texts, s.Text())
		s.ReplaceWithHtml("")
	})
	sh := sheetOf(texts)
	// One walk over the elements, each tried against every rule in order:
	// the elements premailer's Find per rule would match, each with its
	// rules in the same order.
	var order []*elementRules
	var walk func(n *html.Node)
	walk = func(n *html.Node) {
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			if c.Type != html.ElementNode {
				continue
			}
			var er *elementRules
			for i := range sh.rules {
				r := &sh.rules[i]
				if r.match == nil || !r.match.Match(c) {
					continue
				}
				if er == nil {
					er = &elementRules{element: d.FindNodes(c)}
					order = append(order, er)
				}
				er.rules = append(er.rules, r)
			}
			walk(c)
		}
	}
	walk(d.Nodes[0])
	for _, er := range order {
		// premailer marks a matched element with this attribute and
		// removes it after inlining; goquery's RemoveAttr moves the last
		// attribute into its place, which orders the attributes inlining
		// adds. (It marks every element before inlining any; an element's
		// own attributes are all that either touches.)
		er.element.SetAttr(markAttr, "")
		er.inline()
		er.element.RemoveAttr(markAttr)
	}
	if sh.leftover != "" {
		style := &html.Node{Type: html.ElementNode, Data: "style", Attr: []html.Attribute{{Key: "type", Val: "text/css"}}}
		style.AppendChild(&html.Node{Type: html.TextNode, Data: sh.leftover})
		d.Find("head").AppendNodes(style)
	}
	out, err := d.Html()
	if err != nil {
		return "", fmt.Errorf("inline CSS: %w", err)
	}
	return out, nil
}

// sheetOf returns the parsed sheet of the style elements' texts, parsing
// it on first use.
func sheetOf(texts []string) *sheet {
	var b strings.Builder
	for _, t := range texts { // length-prefixed: no two lists share a key
		b.WriteString(strconv.Itoa(len(t)))
		b.WriteByte(':')
		b.WriteString(t)
	}
	key := b.String()
	sheets.Lock()
	defer sheets.Unlock()
	if sh := sheets.m[key]; sh != nil {
		return sh
	}
	sh := parseSheet(texts)
	if len(sheets.m) >= maxSheets {
		clear(sheets.m)
	}
	sheets.m[key] = sh
	return sh
}

// parseSheet is premailer's collectRules and sortRules, and the text of
// its addLeftover.
func parseSheet(texts []string) *sheet {
	sh := &sheet{}
	var leftover []*css.CSSRule
	ruleIndex := 0
	for ruleSetIndex, text := range texts {
		rules := css.Parse(text).GetCSSRuleList()
		for _, rule := range rules {
			if rule.Type != css.STYLE_RULE {
				leftover = append(leftover, rule)
				continue
			}
			var normal, important []*css.CSSStyleDeclaration
			for _, s := range rule.Style.Styles {
				if s.Important {
					important = append(important, s)
				} else {
					normal = append(normal, s)
				}
			}
			for _, selector := range strings.Split(rule.Style.Selector.Text(), ",") {
				if unmergableSelector.MatchString(selector) || notSupportedSelector.MatchString(selector) || strings.Contains(selector, "*") {
					leftover = append(leftover, copyRule(selector, rule))
					continue
				}
				var m goquery.Matcher
				if c, err := cascadia.Compile(selector); err == nil {
					m = c
				}
				if len(normal) > 0 {
					sh.rules = append(sh.rules, inlineRule{m, normal, makeSpecificity(0, ruleSetIndex, ruleIndex, selector)})
					ruleIndex++
				}
				if len(important) > 0 {
					sh.rules = append(sh.rules, inlineRule{m, important, makeSpecificity(1, ruleSetIndex, ruleIndex, selector)})
					ruleIndex++
				}
			}
		}
	}
	sort.Slice(sh.rules, func(i, j int) bool { return sh.rules[i].spec.less(sh.rules[j].spec) })
	if len(leftover) > 0 {
		var b strings.Builder
		for _, rule := range leftover {
			if rule.Type == css.MEDIA_RULE {
				inner := make([]string, 0, len(rule.Rules))
				for _, r := range rule.Rules {
					inner = append(inner, makeRuleImportant(r))
				}
				fmt.Fprintf(&b, "%s %s{\n%s\n}\n", rule.Type.Text(), rule.Style.Selector.Text(), strings.Join(inner, "\n"))
			} else {
				b.WriteString(makeRuleImportant(rule))
			}
		}
		sh.leftover = b.String()
	}
	return sh
}

func copyRule(selector string, rule *css.CSSRule) *css.CSSRule {
	styles := make([]*css.CSSStyleDeclaration, 0, len(rule.Style.Styles))
	for _, s := range rule.Style.Styles {
		styles = append(styles, css.NewCSSStyleDeclaration(s.Property, s.Value.Text(), s.Important))
	}
	return &css.CSSRule{Type: rule.Type, Style: css.CSSStyleRule{Selector: css.NewCSSValue(selector), Styles: styles}}
}

func makeRuleImportant(rule *css.CSSRule) string {
	for _, s := range rule.Style.Styles {
		s.Important = true
	}
	return rule.Style.Text()
}

// specificity orders rules as premailer does: !important last, then by
// ids, classes, attributes, types, style element and place in it.
type specificity [7]int

func makeSpecificity(important, ruleSetIndex, ruleIndex int, selector string) specificity {
	return specificity{min(important, 1), strings.Count(selector, "#"), strings.Count(selector, "."),
		strings.Count(selector, "["), len(typeSelectorRegex.FindAllString(selector, -1)), ruleSetIndex, ruleIndex}
}

func (s specificity) less(o specificity) bool {
	for n, v := range s {
		if v != o[n] {
			return v < o[n]
		}
	}
	return false
}

// elementRules is one element and the rules that match it, in order.
type elementRules struct {
	element *goquery.Selection
	rules   []*inlineRule
}

// inline is premailer's elementRules.inline with CssToAttributes on and
// KeepBangImportant off: the rules' declarations in order, then the
// element's own, each property's last value kept at its last place.
func (er *elementRules) inline() {
	own, _ := er.element.Attr("style")
	var ownStyles []*css.CSSStyleDeclaration
	if own != "" {
		ownStyles = css.ParseBlock(own)
	}
	var orders []string
	styles := map[string]string{}
	for _, rule := range er.rules {
		for _, s := range rule.styles {
			styles[s.Property] = s.Value.Text()
			orders = append(orders, s.Property)
		}
	}
	for _, s := range ownStyles {
		styles[s.Property] = s.Value.Text()
		orders = append(orders, s.Property)
	}
	var props []string
	seen := map[string]bool{}
	for i := len(orders) - 1; i >= 0; i-- {
		if !seen[orders[i]] {
			seen[orders[i]] = true
			props = append(props, orders[i])
		}
	}
	final := make([]string, 0, len(styles))
	for i := len(props) - 1; i >= 0; i-- {
		p, v := props[i], styles[props[i]]
		final = append(final, p+":"+v)
		if p == "width" || p == "height" {
			if strings.HasSuffix(v, "px") {
				er.element.SetAttr(p, v[:len(v)-2])
			} else if v == "0" {
				er.element.SetAttr(p, v)
			}
		}
	}
	if style := strings.Join(final, ";"); style != "" {
		er.element.SetAttr("style", style)
	}
}
