// The shared list readers of the dataset plugins: JSON errors name the file (and the entry), COCO ids follow
// train_caption.py, and img2dataset output reads the same from folders and from webdataset .tar shards.
#include <archive.h>
#include <archive_entry.h>
#include <prismer/image.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <unistd.h>

#include "fixtures.h"
#include "prismer/datasets/caption_lists.h"
#include "prismer/datasets/coco_image_id.h"
#include "prismer/datasets/json_list.h"
#include "prismer/datasets/paths.h"
#include "prismer/datasets/vqa_lists.h"
#include "prismer/datasets/web_shards.h"

namespace {

namespace fs = std::filesystem;
namespace pds = prismer::datasets;

struct TempDir {
  fs::path path = fs::temp_directory_path() / ("prismer_lists_" + std::to_string(::getpid()));
  TempDir() { fs::create_directories(path); }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

void write(const fs::path& p, const std::string& text) {
  fs::create_directories(p.parent_path());
  std::ofstream(p, std::ios::binary) << text;
}

std::string error_of(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const std::exception& e) {
    return e.what();
  }
  return "";
}

void write_tar(const fs::path& tar, const std::vector<std::pair<std::string, std::string>>& members) {
  archive* a = archive_write_new();
  archive_write_set_format_pax_restricted(a);
  REQUIRE(archive_write_open_filename(a, tar.c_str()) == ARCHIVE_OK);
  for (const auto& [name, data] : members) {
    archive_entry* e = archive_entry_new();
    archive_entry_set_pathname(e, name.c_str());
    archive_entry_set_size(e, static_cast<la_int64_t>(data.size()));
    archive_entry_set_filetype(e, AE_IFREG);
    archive_entry_set_perm(e, 0644);
    archive_write_header(a, e);
    archive_write_data(a, data.data(), data.size());
    archive_entry_free(e);
  }
  archive_write_close(a);
  archive_write_free(a);
}

}  // namespace

TEST_CASE("JSON lists: a truncated file and a malformed entry are reported with the file and the index") {
  TempDir tmp;
  const fs::path truncated = tmp.path / "coco_karpathy_test.json";
  write(truncated, R"([{"image": "val2014/COCO_val2014_000000000042.jpg", "caption": ["A cat."]}, {"image": "val20)");
  const std::string e1 = error_of([&] { pds::JsonList list(truncated.string()); });
  std::cout << "  truncated: " << e1 << std::endl;
  CHECK(e1.find(truncated.string()) == 0);
  CHECK(e1.find("not valid JSON") != std::string::npos);

  const fs::path bad = tmp.path / "bad.json";
  write(bad, R"([{"image": "val2014/COCO_val2014_000000000042.jpg", "caption": ["A cat."]}, {"caption": ["x"]}])");
  pds::CaptionListOptions o;
  o.data_root = tmp.path.string();
  o.folder = "vqav2";
  const std::string e2 = error_of([&] { pds::read_caption_eval(bad.string(), o, pds::ImageIdRule::coco_file_name); });
  std::cout << "  malformed: " << e2 << std::endl;
  CHECK(e2 == bad.string() + ": entry 1: field 'image' is missing");

  write(bad, R"([{"dataset": "vqa", "image": "a.jpg", "question": "Why?", "answer": ["no"], "weight": ["1"]}])");
  CHECK(error_of([&] { pds::read_vqa_train(bad.string(), "", 30); }) ==
        bad.string() + ": entry 0: field 'weight' must hold numbers, found a string");
  write(bad, R"([{"dataset": "gqa", "image": "a.jpg", "question": "Why?", "question_id": 3}])");
  CHECK(error_of([&] { pds::read_vqa_eval(bad.string(), "", 30); }).find("entry 0: unknown dataset 'gqa'") !=
        std::string::npos);
  write(bad, R"({"image": "a.jpg"})");
  CHECK(error_of([&] { pds::JsonList list(bad.string()); }) == bad.string() + ": expected a JSON list at the top level, got an object");
  CHECK(error_of([&] { pds::JsonList list((tmp.path / "absent.json").string()); }).find("absent.json: cannot read") != std::string::npos);
}

TEST_CASE("COCO image ids and label names follow the original's string rules") {
  CHECK(pds::coco_image_id("val2014/COCO_val2014_000000000128.jpg") == 128);
  CHECK(pds::coco_image_id("COCO_val2014_000000391895.jpg") == 391895);
  CHECK_FALSE(pds::coco_image_id("val/0013ea2087020901.jpg").has_value());
  CHECK(pds::label_name_of("val2014/COCO_val2014_000000000128.jpg") == "val2014/COCO_val2014_000000000128");
  CHECK(pds::label_name_of("a.jpg.d/b.jpg") == "a.png.d/b");  // str.replace touches every occurrence
  CHECK(pds::last_components("/data/visual-genome/image/1.jpg", 2) == "image/1.jpg");
}

TEST_CASE("web: img2dataset folders and webdataset .tar shards give the same samples") {
  TempDir tmp;
  prismer::Image img(20, 16, 3, 90);
  img.at(3, 4, 0) = 250;
  const fs::path jpg = tmp.path / "a" / "cc12m" / "00000" / "000000007.jpg";
  prismer::write_image(jpg.string(), img);
  write(tmp.path / "a" / "cc12m" / "00000" / "000000007.txt", "two (dogs) running\r\nsecond line\n");
  prismer::write_image((tmp.path / "a" / "cc12m" / "00000" / "000000008.jpg").string(), img);  // no caption
  write(tmp.path / "a" / "cc12m" / "00000" / "000000008.txt", "");

  const std::string jpeg_bytes = prismer::test::read_file(jpg);
  fs::create_directories(tmp.path / "b" / "cc12m");
  write_tar(tmp.path / "b" / "cc12m" / "00000.tar",
            {{"000000006.jpg", jpeg_bytes}, {"000000006.json", "{}"},
             {"000000007.jpg", jpeg_bytes}, {"000000007.txt", "two (dogs) running\r\nsecond line\n"},
             {"000000008.jpg", jpeg_bytes}});

  const pds::WebShards folders((tmp.path / "a").string(), "cc12m", 30);
  const pds::WebShards tars((tmp.path / "b").string(), "cc12m", 30);
  REQUIRE(folders.size() == 2);
  REQUIRE(tars.size() == 1);  // 000000006 and 000000008 have no caption member
  CHECK(tars.skipped() == 2);
  const prismer::Sample f = folders.sample(0), t = tars.sample(0);
  CHECK(f.id == "cc12m/00000/000000007");
  CHECK(t.id == f.id);
  CHECK(f.label_subdir == "cc12m");
  CHECK(f.label_name == "00000/000000007");
  CHECK(t.label_name == f.label_name);
  CHECK(f.text.at("caption") == "Two dogs running");
  CHECK(t.text.at("caption") == f.text.at("caption"));
  CHECK(tars.load_image(0).pixels == folders.load_image(0).pixels);
  // An empty caption file is an error naming it, raised when the sample is read (the loader skips it).
  const std::string e = error_of([&] { folders.sample(1); });
  CHECK(e.find("000000008.txt") != std::string::npos);
}
