// jsforce, an independent Salesforce client, driving the local org.
//
// Reads INSTANCE_URL and ACCESS_TOKEN (and trusts the org's CA through NODE_EXTRA_CA_CERTS),
// runs each scenario in turn and prints one JSON object: scenario name -> what jsforce saw,
// or {"error": message} when jsforce threw. tests/emulator/test_jsforce_client.py asserts on it.
'use strict';

const jsforce = require('jsforce');

const conn = new jsforce.Connection({
  instanceUrl: process.env.INSTANCE_URL,
  accessToken: process.env.ACCESS_TOKEN,
  version: process.env.API_VERSION || '59.0',
});
const polling = { pollInterval: 50, pollTimeout: 30000 };

const scenarios = {
  async identity() {
    const info = await conn.identity();
    return { userId: info.user_id, orgId: info.organization_id, username: info.username };
  },

  async queryAutoFetch() {
    const records = [];
    await new Promise((resolve, reject) => {
      conn.query('SELECT Id, Name FROM Account ORDER BY Name')
        .on('record', (r) => records.push(r.Id))
        .on('end', resolve)
        .on('error', reject)
        .run({ autoFetch: true, maxFetch: 100000 });
    });
    return { count: records.length, unique: new Set(records).size };
  },

  async queryMore() {
    const first = await conn.query('SELECT Id FROM Account');
    const pages = [first.records.length];
    let page = first;
    while (!page.done) {
      page = await conn.queryMore(page.nextRecordsUrl);
      pages.push(page.records.length);
    }
    return { totalSize: first.totalSize, pages, nextRecordsUrl: first.nextRecordsUrl };
  },

  async createAndUpsert() {
    const account = await conn.sobject('Account').create({ Name: 'jsforce Holdings' });
    const opp = await conn.sobject('Opportunity').create({
      Name: 'jsforce Deal', AccountId: account.id, StageName: 'Prospecting',
      CloseDate: '2027-06-30',
    });
    const plans = [
      { External_Id__c: opp.id, Name: 'jsforce plan', Opportunity__c: opp.id },
      { External_Id__c: 'nameless-plan', Opportunity__c: opp.id },
    ];
    const first = await conn.sobject('Mutual_Action_Plan__c')
      .upsert(plans, 'External_Id__c', { allOrNone: false });
    plans[0].Health__c = 'At Risk';
    const second = await conn.sobject('Mutual_Action_Plan__c')
      .upsert(plans.slice(0, 1), 'External_Id__c', { allOrNone: false });
    const stored = await conn.sobject('Mutual_Action_Plan__c').retrieve(first[0].id);
    return { account, opportunityId: opp.id, first, second, health: stored.Health__c };
  },

  async bulkIngest() {
    const input = [{ Name: 'Bulk via jsforce 1', NumberOfEmployees: 5 },
                   { Name: 'Bulk via jsforce 2', NumberOfEmployees: 6 },
                   { NumberOfEmployees: 7 }];
    const results = await conn.bulk2.loadAndWaitForResults({
      object: 'Account', operation: 'insert', input, ...polling,
    });
    return {
      successful: results.successfulResults.map((r) => ({ id: r.sf__Id, created: r.sf__Created,
                                                          name: r.Name })),
      failed: results.failedResults.map((r) => ({ error: r.sf__Error,
                                                  employees: r.NumberOfEmployees })),
      unprocessed: results.unprocessedRecords.length,
    };
  },

  async bulkQuery() {
    const stream = await conn.bulk2.query('SELECT Id, Name, Owner.Name FROM Account', polling);
    const records = await stream.toArray();
    // Bulk query rows come in no particular order: pick the sample by name
    return { count: records.length, unique: new Set(records.map((r) => r.Id)).size,
             sample: records.find((r) => r.Name === 'Seeded 00000') || null };
  },

  // SOAP partner login (username, password + security token), then Bulk API 1.0
  async soapLoginAndBulkV1() {
    const soap = new jsforce.Connection({ loginUrl: process.env.INSTANCE_URL,
                                          version: process.env.API_VERSION || '59.0' });
    const info = await soap.login(process.env.SF_USERNAME, process.env.SF_PASSWORD);
    soap.bulk.pollInterval = 50;
    soap.bulk.pollTimeout = 30000;
    const loaded = await soap.bulk.load('Account', 'insert', [
      { Name: 'Bulk 1.0 via jsforce', NumberOfEmployees: 2 }, { NumberOfEmployees: 3 }]);
    const stream = await soap.bulk.query(
      "SELECT Id, Name FROM Account WHERE Name = 'Bulk 1.0 via jsforce'");
    const rows = await new Promise((resolve, reject) => {
      const out = [];
      stream.on('record', (r) => out.push(r)).on('end', () => resolve(out))
        .on('error', reject);
    });
    return { userId: info.id, orgId: info.organizationId,
             instance: soap.instanceUrl, loaded, rows };
  },
};

(async () => {
  const out = {};
  for (const name of (process.argv[2] || Object.keys(scenarios).join(',')).split(',')) {
    try {
      out[name] = await scenarios[name]();
    } catch (err) {
      out[name] = { error: String(err && err.stack || err) };
    }
  }
  process.stdout.write(JSON.stringify(out));
})();
