'use strict';
// The calls a product makes with Membrane's official SDK, run against Osmo.
// Prints one JSON object: {"<call>": {"ok": true} | {"ok": false, "error": "..."}}, so the test
// can say exactly which calls work; a call passes when it returns without error and the fields
// a caller reads from its answer are present.
//
// Environment: MEMBRANE_SDK (path of the installed @membranehq/sdk package) and OSMO_SDK_CONFIG,
// JSON with apiUri, workspaceKey, workspaceSecret, tenantKey, adminToken, connectionId, and the
// keys of the elements the test defined.

const { MembraneClient } = require(process.env.MEMBRANE_SDK);

const cfg = JSON.parse(process.env.OSMO_SDK_CONFIG);
const results = {};

// The SDK polls a flow run from inside setInterval, where a failed poll is an unhandled
// rejection; the step that started the run reports it, so the process must not die of it.
process.on('unhandledRejection', () => {});

function need(value, ...fields) {
  if (value === null || value === undefined) throw new Error('no answer');
  const missing = fields.filter((f) => value[f] === undefined);
  if (missing.length) throw new Error(`missing ${missing.join(', ')} in ${JSON.stringify(value).slice(0, 300)}`);
  return value;
}

function needItems(page, ...fields) {
  need(page, 'items');
  if (!Array.isArray(page.items) || page.items.length === 0) throw new Error('no items');
  page.items.forEach((item) => need(item, ...fields));
  return page.items;
}

function within(ms, promise) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

async function step(name, fn) {
  try {
    await within(30000, fn());
    results[name] = { ok: true };
  } catch (error) {
    const data = error && error.data ? ` ${JSON.stringify(error.data).slice(0, 300)}` : '';
    results[name] = { ok: false, error: `${(error && error.message) || error}${data}` };
  }
}

async function main() {
  // The backend's way: the SDK mints its own token (iss + id) from the workspace key and secret.
  const client = new MembraneClient({
    apiUri: cfg.apiUri,
    workspaceKey: cfg.workspaceKey,
    workspaceSecret: cfg.workspaceSecret,
    tenantKey: cfg.tenantKey,
  });
  // The frontend's way: a token the product's backend minted (iss + id + isAdmin).
  const admin = new MembraneClient({ apiUri: cfg.apiUri, token: cfg.adminToken });
  const connectionId = cfg.connectionId;
  const connection = client.connection(connectionId);
  let flowRunId;

  let customerId;
  await step('self.get', async () => {
    const self = need(await client.self.get(), 'id', 'name', 'internalId');
    customerId = self.id;
    if (self.internalId !== cfg.tenantKey) throw new Error(`internalId ${self.internalId}`);
  });
  await step('integrations.find', async () => needItems(await client.integrations.find(), 'id', 'key', 'name', 'logoUri'));
  await step('integration.get', async () => need(await client.integration(cfg.integrationKey).get(), 'id', 'key', 'name', 'logoUri'));
  await step('connections.find', async () => needItems(await client.connections.find(), 'id', 'integrationId', 'userId', 'disconnected'));
  await step('connection.get', async () => need(await connection.get(), 'id', 'integrationId', 'userId', 'disconnected'));

  // An action three ways: by key with the connection in the query, on the connection with the
  // raw input as the body, and on the action instance.
  let contactId;
  await step('action.run(connectionId)', async () => {
    const run = need(await client.action(cfg.createAction).run({ email: 'sdk@example.com' }, { connectionId }), 'output');
    contactId = need(run.output, 'id').id;
  });
  await step('action.run(integrationKey)', async () => {
    need((await client.action(cfg.getAction).run({ id: contactId }, { integrationKey: cfg.integrationKey })).output, 'record');
  });
  await step('connection.action.run', async () => {
    need((await connection.action(cfg.createAction).run({ email: 'raw@example.com' })).output, 'id');
  });
  await step('actionInstance.run', async () => {
    const instance = client.actionInstance({ connectionId, actionKey: cfg.getAction });
    need((await instance.run({ id: contactId })).output, 'record');
  });
  await step('actionInstance.get', async () => need(await client.actionInstance({ connectionId, actionKey: cfg.getAction }).get(), 'id', 'key'));
  await step('actionInstances.find', async () => needItems(await client.actionInstances.find({ connectionId }), 'id', 'key'));
  await step('connection.actions.list', async () => needItems(await connection.actions.list(), 'id', 'key'));

  // A flow: started on the connection (answers the run), then run and polled by the SDK.
  await step('connection.flow.run', async () => {
    const run = need(await connection.flow(cfg.flowKey).run({ input: { email: 'flow@example.com' } }), 'id', 'state');
    flowRunId = run.id;
  });
  await step('flowInstance.get', async () => need(await client.flowInstance({ connectionId, flowKey: cfg.flowKey }).get(), 'id', 'key'));
  await step('flowInstance.disable+enable', async () => {
    const instance = client.flowInstance({ connectionId, flowKey: cfg.flowKey });
    if ((await instance.disable()).enabled !== false) throw new Error('still enabled');
    if ((await instance.enable()).enabled !== true) throw new Error('still disabled');
  });
  await step('flowInstances.find', async () => needItems(await client.flowInstances.find({ connectionId }), 'id', 'key'));
  await step('connection.flows.list', async () => needItems(await connection.flows.list(), 'id', 'key'));
  await step('flowInstance.run', async () => {
    const instance = client.flowInstance({ connectionId, flowKey: cfg.flowKey });
    const run = need(await instance.run({ input: { email: 'polled@example.com' } }), 'id', 'state');
    if (run.state !== 'completed') throw new Error(`state ${run.state}`);
    flowRunId = flowRunId || run.id;
  });
  await step('flowRuns.find(flowInstanceId)', async () => {
    const instance = await client.flowInstance({ connectionId, flowKey: cfg.flowKey }).get();
    const items = needItems(await client.flowRuns.find({ flowInstanceId: instance.id }), 'id', 'state', 'startTime');
    flowRunId = flowRunId || items[0].id;
  });
  await step('flowRun.get', async () => need(await client.flowRun(flowRunId).get(), 'id', 'state', 'startTime', 'connectionFlowId', 'startNodeKey', 'userId'));
  await step('flowRun.getOutput', async () => need(await client.flowRun(flowRunId).getOutput(), 'output'));

  // Configuration the product reads per customer.
  const dataSource = { connectionId, dataSourceKey: cfg.dataSourceKey };
  await step('dataSourceInstance.get', async () => need(await client.dataSourceInstance(dataSource).get(), 'id', 'key', 'collectionKey'));
  await step('dataSourceInstance.listRecords', async () => needItems({ items: need(await client.dataSourceInstance(dataSource).listRecords(), 'records').records }, 'id'));
  await step('dataSourceInstance.findRecordById', async () => need((await client.dataSourceInstance(dataSource).findRecordById(contactId)).record, 'id', 'fields'));
  await step('dataSourceInstances.find', async () => needItems(await client.dataSourceInstances.find({ connectionId }), 'id', 'key'));
  await step('connection.dataSources.list', async () => needItems(await connection.dataSources.list(), 'id', 'key'));
  const fieldMapping = { connectionId, fieldMappingKey: cfg.fieldMappingKey };
  await step('fieldMappingInstance.get', async () => need(await client.fieldMappingInstance(fieldMapping).get(), 'id', 'key', 'direction'));
  await step('fieldMappingInstance.reset', async () => need(await client.fieldMappingInstance(fieldMapping).reset(), 'id', 'isCustomized'));
  await step('dataSourceInstance.reset', async () => { await client.dataSourceInstance(dataSource).reset(); });
  await step('fieldMappingInstances.find', async () => needItems(await client.fieldMappingInstances.find({ connectionId }), 'id', 'key'));
  await step('connection.fieldMappings.list', async () => needItems(await connection.fieldMappings.list(), 'id', 'key'));
  const table = client.dataLinkTableInstance({ connectionId, dataLinkTableKey: cfg.dataLinkTableKey });
  await step('dataLinkTableInstance.get', async () => need(await table.get(), 'id', 'key'));
  await step('dataLinkTableInstance.createLink', async () => need(await table.createLink({ appRecordId: 'app-1', externalRecordId: contactId || 'ext-1' }), 'appRecordId', 'externalRecordId'));
  await step('dataLinkTableInstance.findLinks', async () => needItems(await table.findLinks({ appRecordId: 'app-1' }), 'appRecordId', 'externalRecordId'));

  // Raw requests to the app's API through the connection.
  await step('connection.proxy.get', async () => need(await connection.proxy.get(cfg.proxyGetPath), 'email'));
  await step('connection.proxy.post', async () => need(await connection.proxy.post(cfg.proxyPostPath, { properties: { email: 'proxy@example.com' } }), 'id'));
  await step('connection.request', async () => need(await connection.request(cfg.proxyPostPath, { properties: { email: 'request@example.com' } }), 'id'));

  // Workspace administration with an admin token.
  await step('customers.find', async () => needItems(await admin.customers.find(), 'id', 'name', 'internalId'));
  await step('customer.get', async () => need(await admin.customer(customerId).get(), 'id', 'name', 'internalId'));
}

main()
  .catch((error) => {
    results['(script)'] = { ok: false, error: String((error && error.stack) || error) };
  })
  .finally(() => {
    process.stdout.write(JSON.stringify(results) + '\n');
    process.exit(0);
  });
