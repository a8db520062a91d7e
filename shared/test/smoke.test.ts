test('influx test server answers', async () => {
  const res = await fetch(`${process.env.FLYMINING_TEST_INFLUX_URL}/ping`);
  expect(res.status).toBe(204);
});
