/* Makes one deliberate Vulkan mistake, so that CI proves the validation layer
 * is loaded and reports what it should (tests/validation/check_layer.sh).
 *
 *   test_invalid_calls usage   creates a VkImage with usage 0 (a valid-usage
 *                              error the layer reports; drivers do not check)
 *   test_invalid_calls hazard  records two copies into one buffer with no
 *                              barrier between them (a write-after-write
 *                              hazard only synchronization validation sees)
 *
 * Without the layer both modes run to the end and exit 0; 77 where no Vulkan
 * device is. */
#include <stdio.h>
#include <string.h>

#include "common/vk_kit.h"

#define TEST_SKIP 77

#define VK_OK(call)                                                            \
  do {                                                                         \
    VkResult r_ = (call);                                                      \
    if (r_ != VK_SUCCESS) {                                                    \
      fprintf(stderr, "%s:%d: %s returned %d\n", __FILE__, __LINE__, #call, r_); \
      rc = 1;                                                                  \
      goto out;                                                                \
    }                                                                          \
  } while (0)

static VkInstance instance;
static VkDevice device;
static VkPhysicalDevice physical;
static uint32_t family = UINT32_MAX;

static int open_device(void) {
  if (vk_kit_create_instance(NULL, VK_API_VERSION_1_2, NULL, 0, &instance) != 0 ||
      vk_kit_pick_physical(instance, NULL, &physical, NULL) != 0 ||
      vk_kit_queue_family(physical, VK_QUEUE_GRAPHICS_BIT | VK_QUEUE_COMPUTE_BIT, &family) != 0)
    return TEST_SKIP;
  vk_kit_device_config dc = {.physical = physical, .family = family};
  VkQueue queue;
  return vk_kit_create_device(&dc, &device, &queue) == 0 ? 0 : 1;
}

/* An image whose usage is 0: VUID-VkImageCreateInfo-usage-requiredbitmask. */
static int image_without_usage(void) {
  VkImageCreateInfo ici = {.sType = VK_STRUCTURE_TYPE_IMAGE_CREATE_INFO,
                           .imageType = VK_IMAGE_TYPE_2D,
                           .format = VK_FORMAT_R8G8B8A8_UNORM,
                           .extent = {16, 16, 1},
                           .mipLevels = 1,
                           .arrayLayers = 1,
                           .samples = VK_SAMPLE_COUNT_1_BIT,
                           .tiling = VK_IMAGE_TILING_OPTIMAL,
                           .usage = 0,
                           .initialLayout = VK_IMAGE_LAYOUT_UNDEFINED};
  VkImage image = VK_NULL_HANDLE;
  /* The layer refuses the call (VK_ERROR_VALIDATION_FAILED_EXT); a driver
   * may accept it. Either way the program goes on. */
  if (vkCreateImage(device, &ici, NULL, &image) == VK_SUCCESS) vkDestroyImage(device, image, NULL);
  return 0;
}

/* Two vkCmdFillBuffer into the same range, no barrier: the second write races
 * the first (SYNC-HAZARD-WRITE-AFTER-WRITE). The command buffer is only
 * recorded, never submitted. */
static int unsynchronized_writes(void) {
  int rc = 0;
  VkBuffer buffer = VK_NULL_HANDLE;
  VkDeviceMemory memory = VK_NULL_HANDLE;
  VkCommandPool pool = VK_NULL_HANDLE;
  VkBufferCreateInfo bci = {.sType = VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO,
                            .size = 256,
                            .usage = VK_BUFFER_USAGE_TRANSFER_DST_BIT};
  VK_OK(vkCreateBuffer(device, &bci, NULL, &buffer));
  VkMemoryRequirements req;
  vkGetBufferMemoryRequirements(device, buffer, &req);
  VkPhysicalDeviceMemoryProperties mp;
  vkGetPhysicalDeviceMemoryProperties(physical, &mp);
  uint32_t type = 0;
  while (type < mp.memoryTypeCount && !(req.memoryTypeBits & (1u << type))) type++;
  VkMemoryAllocateInfo mai = {.sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO,
                              .allocationSize = req.size,
                              .memoryTypeIndex = type};
  VK_OK(vkAllocateMemory(device, &mai, NULL, &memory));
  VK_OK(vkBindBufferMemory(device, buffer, memory, 0));
  VkCommandPoolCreateInfo pci = {.sType = VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO,
                                 .queueFamilyIndex = family};
  VK_OK(vkCreateCommandPool(device, &pci, NULL, &pool));
  VkCommandBufferAllocateInfo cai = {.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO,
                                     .commandPool = pool,
                                     .level = VK_COMMAND_BUFFER_LEVEL_PRIMARY,
                                     .commandBufferCount = 1};
  VkCommandBuffer cmd;
  VK_OK(vkAllocateCommandBuffers(device, &cai, &cmd));
  VkCommandBufferBeginInfo begin = {.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO};
  VK_OK(vkBeginCommandBuffer(cmd, &begin));
  vkCmdFillBuffer(cmd, buffer, 0, 256, 1u);
  vkCmdFillBuffer(cmd, buffer, 0, 256, 2u);
  VK_OK(vkEndCommandBuffer(cmd));
out:
  if (pool) vkDestroyCommandPool(device, pool, NULL);
  if (buffer) vkDestroyBuffer(device, buffer, NULL);
  if (memory) vkFreeMemory(device, memory, NULL);
  return rc;
}

int main(int argc, char **argv) {
  const char *mode = argc == 2 ? argv[1] : "";
  if (strcmp(mode, "usage") != 0 && strcmp(mode, "hazard") != 0) {
    fprintf(stderr, "usage: test_invalid_calls usage|hazard\n");
    return 2;
  }
  int rc = open_device();
  if (rc == TEST_SKIP) {
    printf("SKIP: no Vulkan device\n");
  } else if (rc == 0) {
    rc = strcmp(mode, "usage") == 0 ? image_without_usage() : unsynchronized_writes();
    printf("test_invalid_calls %s: done (%s)\n", mode, rc == 0 ? "ran to the end" : "failed");
  }
  if (device) vkDestroyDevice(device, NULL);
  if (instance) vkDestroyInstance(instance, NULL);
  return rc;
}
