import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from pipelines.extract.customers import CustomerFileError, CustomerRef, load_customers


def write(tmp_path, text: str):
    path = tmp_path / "customers.csv"
    path.write_text(text)
    return path


def test_csv_with_identifier_types(tmp_path):
    path = write(tmp_path, "customer_id,identifier_type\n101,\n102,id\na@b.com,email\n101,id\n")
    assert load_customers(path) == [
        CustomerRef("101", "id"),
        CustomerRef("102", "id"),
        CustomerRef("a@b.com", "email"),
    ]


def test_csv_without_identifier_column_defaults_to_id(tmp_path):
    assert load_customers(write(tmp_path, "customer_id\n7\n")) == [CustomerRef("7", "id")]


def test_unknown_identifier_type_names_file_line_and_value(tmp_path):
    path = write(tmp_path, "customer_id,identifier_type\n101,id\n102,phone\n")
    with pytest.raises(CustomerFileError) as error:
        load_customers(path)
    assert f"{path}:3" in str(error.value)
    assert "'phone'" in str(error.value) and "externalId" in str(error.value)


def test_missing_column_and_empty_id_are_errors(tmp_path):
    with pytest.raises(CustomerFileError, match="no 'customer_id' column"):
        load_customers(write(tmp_path, "id\n1\n"))
    with pytest.raises(CustomerFileError, match=r"customers.csv:2: empty customer_id"):
        load_customers(write(tmp_path, "customer_id,identifier_type\n,email\n"))


def test_parquet_input(tmp_path):
    path = tmp_path / "customers.parquet"
    table = pa.table({"customer_id": ["1", "2"], "identifier_type": ["id", "mobile"]})
    pq.write_table(table, path)
    assert load_customers(path) == [CustomerRef("1", "id"), CustomerRef("2", "mobile")]
