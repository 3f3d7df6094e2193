from xrm.query import QueryExpression
def test_smoke(query_world):
    rows = query_world.run(QueryExpression("qry_item"))
    assert len(rows) == 48
    print(rows[0])
