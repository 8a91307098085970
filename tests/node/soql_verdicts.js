// Salesforce's own SOQL parser as a reference: reads a JSON array of query strings on stdin and
// prints, for each, {"accepted": bool, "errors": [message, ...]} as one JSON array on stdout.
//
// A query is accepted only when the parser succeeds with no syntax error and the lexer met no
// character it does not know. Both checks are needed: the parser recovers from some errors (one
// extraneous trailing token) and still builds a tree, and SOQLParser reports only the parser's
// errors while its lexer silently drops unknown characters (a trailing ';', the '!' of '=!').
'use strict';

const { SOQLParser, LowerCasingCharStream } = require('@salesforce/soql-common/lib/soql-parser');
const { SoqlLexer } = require('@salesforce/soql-common/lib/soql-parser/generated/SoqlLexer');

function lexerErrors(query) {
  const lexer = new SoqlLexer(new LowerCasingCharStream(query));
  const errors = [];
  lexer.removeErrorListeners();
  lexer.addErrorListener({
    syntaxError: (recognizer, symbol, line, column, message) => {
      errors.push(`line ${line}:${column} ${message}`);
    },
  });
  lexer.getAllTokens();
  return errors;
}

function verdict(query) {
  const parser = SOQLParser({ isApex: false, apiVersion: 59, isMultiCurrencyEnabled: false });
  const result = parser.parseQuery(query);
  const errors = [
    ...lexerErrors(query),
    ...result.getParserErrors().map(
      (e) => `line ${e.getLineNumber()}:${e.getCharacterPositionInLine()} ${e.getMessage()}`),
  ];
  return { accepted: result.getSuccess() && errors.length === 0, errors };
}

let input = '';
process.stdin.setEncoding('utf8');
process.stdin.on('data', (chunk) => { input += chunk; });
process.stdin.on('end', () => {
  const queries = JSON.parse(input);
  // the parser's own lexer reports to console.error; keep stdout for the verdicts only
  process.stdout.write(JSON.stringify(queries.map(verdict)));
});
